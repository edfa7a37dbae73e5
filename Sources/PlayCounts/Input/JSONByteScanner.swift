/// Why a JSON scan failed; the message says where and what.
public struct JSONScanError: Error, Sendable {
    public enum Kind: Sendable { case syntax, invalidUTF8 }
    public var kind: Kind
    public var message: String
    public var offset: Int

    public static func syntax(_ message: String, at offset: Int) -> JSONScanError {
        JSONScanError(kind: .syntax, message: message, offset: offset)
    }
}

/// A strict RFC 8259 scanner over raw bytes for the few small shapes playcount reads (play messages,
/// trace lines). It validates everything it skips (nested values, numbers, escapes, UTF-8 in strings),
/// never allocates on the happy path and never traps on any input.
public struct JSONByteScanner {
    public let bytes: UnsafeRawBufferPointer
    private(set) var index: Int
    /// Nesting limit for skipped values, so hostile input cannot recurse deeply.
    public let maxDepth: Int

    public init(_ bytes: UnsafeRawBufferPointer, maxDepth: Int = 64) {
        self.bytes = bytes
        self.index = 0
        self.maxDepth = maxDepth
    }

    public var isAtEnd: Bool { index >= bytes.count }

    /// The next byte, or nil at the end.
    public var peek: UInt8? { index < bytes.count ? bytes[index] : nil }

    public mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    /// Consumes `byte` (after whitespace) or fails naming `what` was expected.
    public mutating func expect(_ byte: UInt8, _ what: StaticString) throws(JSONScanError) {
        skipWhitespace()
        guard index < bytes.count else { throw .syntax("expected \(what) but the input ended", at: index) }
        guard bytes[index] == byte else { throw unexpected("expected \(what)") }
        index += 1
    }

    /// Consumes `byte` after whitespace if it is next.
    public mutating func consume(_ byte: UInt8) -> Bool {
        skipWhitespace()
        if index < bytes.count, bytes[index] == byte {
            index += 1
            return true
        }
        return false
    }

    /// An error for the byte at the cursor.
    public func unexpected(_ context: String) -> JSONScanError {
        guard index < bytes.count else { return .syntax("\(context) but the input ended", at: index) }
        let byte = bytes[index]
        let shown: String
        if byte >= 0x20 && byte < 0x7F {
            shown = "'\(Character(Unicode.Scalar(byte)))'"
        } else {
            shown = "byte 0x\(String(byte, radix: 16, uppercase: true))"
        }
        let kind: JSONScanError.Kind = byte >= 0x80 && !Self.isValidUTF8(bytes) ? .invalidUTF8 : .syntax
        return JSONScanError(kind: kind, message: "\(context), found \(shown) at offset \(index)", offset: index)
    }

    // MARK: Strings

    /// A scanned string: the raw bytes between the quotes, and whether they contain escapes.
    public struct StringToken {
        public var start: Int
        public var end: Int
        public var hasEscapes: Bool
    }

    /// Scans a string (cursor on or before its opening quote after whitespace), validating escapes and UTF-8.
    public mutating func scanString() throws(JSONScanError) -> StringToken {
        try expect(UInt8(ascii: "\""), "a string")
        let start = index
        var hasEscapes = false
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""):
                let token = StringToken(start: start, end: index, hasEscapes: hasEscapes)
                index += 1
                return token
            case UInt8(ascii: "\\"):
                hasEscapes = true
                try scanEscape()
            case 0x00..<0x20:
                throw .syntax("control character 0x\(String(byte, radix: 16)) in a string at offset \(index)", at: index)
            case 0x20..<0x80:
                index += 1
            default:
                try scanUTF8Sequence()
            }
        }
        throw .syntax("unterminated string starting at offset \(start - 1)", at: start - 1)
    }

    private mutating func scanEscape() throws(JSONScanError) {
        let at = index
        index += 1
        guard index < bytes.count else { throw .syntax("unterminated escape at offset \(at)", at: at) }
        switch bytes[index] {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
            UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
            index += 1
        case UInt8(ascii: "u"):
            index += 1
            let unit = try scanHex4(escapeAt: at)
            if (0xD800...0xDBFF).contains(unit) {
                // A high surrogate must be followed by an escaped low surrogate.
                guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u")
                else { throw .syntax("unpaired surrogate escape at offset \(at)", at: at) }
                index += 2
                let low = try scanHex4(escapeAt: at)
                guard (0xDC00...0xDFFF).contains(low) else {
                    throw .syntax("unpaired surrogate escape at offset \(at)", at: at)
                }
            } else if (0xDC00...0xDFFF).contains(unit) {
                throw .syntax("unpaired surrogate escape at offset \(at)", at: at)
            }
        default:
            throw .syntax("invalid escape at offset \(at)", at: at)
        }
    }

    private mutating func scanHex4(escapeAt: Int) throws(JSONScanError) -> UInt16 {
        guard index + 4 <= bytes.count else { throw .syntax("truncated \\u escape at offset \(escapeAt)", at: escapeAt) }
        var value: UInt16 = 0
        for _ in 0..<4 {
            guard let digit = Self.hexValue(bytes[index]) else {
                throw .syntax("invalid \\u escape at offset \(escapeAt)", at: escapeAt)
            }
            value = value << 4 | UInt16(digit)
            index += 1
        }
        return value
    }

    @inline(__always)
    public static func hexValue(_ byte: UInt8) -> UInt8? {
        let value = VideoID.nibble(byte)
        return value <= 0xF ? value : nil
    }

    /// Validates one multi-byte UTF-8 sequence at the cursor (no overlongs, no surrogates, ≤ U+10FFFF).
    private mutating func scanUTF8Sequence() throws(JSONScanError) {
        let length = Self.utf8SequenceLength(bytes, at: index)
        guard length > 0 else {
            throw JSONScanError(kind: .invalidUTF8, message: "invalid UTF-8 at offset \(index)", offset: index)
        }
        index += length
    }

    /// The length of the valid UTF-8 sequence starting at `at`, or 0 if it is invalid.
    public static func utf8SequenceLength(_ bytes: UnsafeRawBufferPointer, at: Int) -> Int {
        let lead = bytes[at]
        let count = bytes.count
        func continuation(_ offset: Int, _ range: ClosedRange<UInt8> = 0x80...0xBF) -> Bool {
            at + offset < count && range.contains(bytes[at + offset])
        }
        switch lead {
        case 0x00...0x7F: return 1
        case 0xC2...0xDF: return continuation(1) ? 2 : 0
        case 0xE0: return continuation(1, 0xA0...0xBF) && continuation(2) ? 3 : 0
        case 0xE1...0xEC, 0xEE...0xEF: return continuation(1) && continuation(2) ? 3 : 0
        case 0xED: return continuation(1, 0x80...0x9F) && continuation(2) ? 3 : 0
        case 0xF0: return continuation(1, 0x90...0xBF) && continuation(2) && continuation(3) ? 4 : 0
        case 0xF1...0xF3: return continuation(1) && continuation(2) && continuation(3) ? 4 : 0
        case 0xF4: return continuation(1, 0x80...0x8F) && continuation(2) && continuation(3) ? 4 : 0
        default: return 0
        }
    }

    public static func isValidUTF8(_ bytes: UnsafeRawBufferPointer) -> Bool {
        firstInvalidUTF8Offset(bytes) == nil
    }

    /// The offset of the first byte that does not start a valid UTF-8 sequence, nil if all is valid.
    public static func firstInvalidUTF8Offset(_ bytes: UnsafeRawBufferPointer) -> Int? {
        var index = 0
        while index < bytes.count {
            let length = utf8SequenceLength(bytes, at: index)
            if length == 0 { return index }
            index += length
        }
        return nil
    }

    /// The string's content with escapes resolved, as UTF-8 (only called off the fast path).
    public func decodedString(_ token: StringToken) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(token.end - token.start)
        var i = token.start
        func hex4(_ at: Int) -> UInt32 {
            var value: UInt32 = 0
            for k in at..<(at + 4) { value = value << 4 | UInt32(Self.hexValue(bytes[k]) ?? 0) }
            return value
        }
        while i < token.end {
            let byte = bytes[i]
            guard byte == UInt8(ascii: "\\") else {
                out.append(byte)
                i += 1
                continue
            }
            let code = bytes[i + 1]
            i += 2
            switch code {
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = hex4(i)
                i += 4
                if (0xD800...0xDBFF).contains(scalar) {
                    let low = hex4(i + 2)
                    i += 6
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                }
                if let unicode = Unicode.Scalar(scalar), let encoded = UTF8.encode(unicode) { out.append(contentsOf: encoded) }
            default: out.append(code)  // " \ /
            }
        }
        return out
    }

    /// Whether the string token equals `literal` (ASCII), resolving escapes only when present.
    public func string(_ token: StringToken, equals literal: StaticString) -> Bool {
        let expected = UnsafeRawBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount)
        if !token.hasEscapes {
            guard token.end - token.start == expected.count else { return false }
            for k in 0..<expected.count where bytes[token.start + k] != expected[k] { return false }
            return true
        }
        return decodedString(token).elementsEqual(expected)
    }

    // MARK: Values

    /// What kind of value starts at the cursor.
    public enum ValueKind: Sendable { case object, array, string, number, bool, null }

    /// The kind of the next value without consuming it, or nil if no value can start here.
    public mutating func peekValueKind() -> ValueKind? {
        skipWhitespace()
        guard let byte = peek else { return nil }
        switch byte {
        case UInt8(ascii: "{"): return .object
        case UInt8(ascii: "["): return .array
        case UInt8(ascii: "\""): return .string
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number
        case UInt8(ascii: "t"), UInt8(ascii: "f"): return .bool
        case UInt8(ascii: "n"): return .null
        default: return nil
        }
    }

    /// Skips one complete, valid value of any kind.
    public mutating func skipValue(depth: Int = 0) throws(JSONScanError) {
        guard let kind = peekValueKind() else { throw unexpected("expected a value") }
        switch kind {
        case .string: _ = try scanString()
        case .number: _ = try scanNumber()
        case .bool, .null:
            if !(matchLiteral("true") || matchLiteral("false") || matchLiteral("null")) {
                throw unexpected("expected true, false or null")
            }
        case .object:
            guard depth < maxDepth else { throw .syntax("nesting deeper than \(maxDepth) at offset \(index)", at: index) }
            index += 1
            if consume(UInt8(ascii: "}")) { return }
            repeat {
                _ = try scanString()
                try expect(UInt8(ascii: ":"), "':'")
                try skipValue(depth: depth + 1)
            } while consume(UInt8(ascii: ","))
            try expect(UInt8(ascii: "}"), "',' or '}'")
        case .array:
            guard depth < maxDepth else { throw .syntax("nesting deeper than \(maxDepth) at offset \(index)", at: index) }
            index += 1
            if consume(UInt8(ascii: "]")) { return }
            repeat {
                try skipValue(depth: depth + 1)
            } while consume(UInt8(ascii: ","))
            try expect(UInt8(ascii: "]"), "',' or ']'")
        }
    }

    private mutating func matchLiteral(_ literal: StaticString) -> Bool {
        let count = literal.utf8CodeUnitCount
        guard index + count <= bytes.count else { return false }
        for k in 0..<count where bytes[index + k] != literal.utf8Start[k] { return false }
        index += count
        return true
    }

    /// A scanned number's byte range and whether it is a plain integer (no fraction, no exponent).
    public struct NumberToken {
        public var start: Int
        public var end: Int
        public var isInteger: Bool
    }

    /// Scans a number with the strict JSON grammar `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`.
    public mutating func scanNumber() throws(JSONScanError) -> NumberToken {
        skipWhitespace()
        let start = index
        var isInteger = true
        if peek == UInt8(ascii: "-") { index += 1 }
        guard let first = peek, Self.isDigit(first) else { throw unexpected("expected a digit") }
        index += 1
        if first != UInt8(ascii: "0") {
            while let byte = peek, Self.isDigit(byte) { index += 1 }
        }
        if peek == UInt8(ascii: ".") {
            isInteger = false
            index += 1
            guard let byte = peek, Self.isDigit(byte) else { throw unexpected("expected a digit after '.'") }
            while let byte = peek, Self.isDigit(byte) { index += 1 }
        }
        if peek == UInt8(ascii: "e") || peek == UInt8(ascii: "E") {
            isInteger = false
            index += 1
            if peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") { index += 1 }
            guard let byte = peek, Self.isDigit(byte) else { throw unexpected("expected a digit in the exponent") }
            while let byte = peek, Self.isDigit(byte) { index += 1 }
        }
        return NumberToken(start: start, end: index, isInteger: isInteger)
    }

    public static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    /// The number's value as an Int64 when it is an integer that fits, else nil.
    public func integerValue(_ token: NumberToken) -> Int64? {
        guard token.isInteger else { return nil }
        var i = token.start
        let negative = bytes[i] == UInt8(ascii: "-")
        if negative { i += 1 }
        var value: Int64 = 0
        while i < token.end {
            let digit = Int64(bytes[i] - UInt8(ascii: "0"))
            let (times10, o1) = value.multipliedReportingOverflow(by: 10)
            let (next, o2) = negative ? times10.subtractingReportingOverflow(digit) : times10.addingReportingOverflow(digit)
            if o1 || o2 { return nil }
            value = next
            i += 1
        }
        return value
    }

    /// The number's value as a Double (parsed from its text; off the hot path).
    public func doubleValue(_ token: NumberToken) -> Double? {
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[token.start..<token.end]), as: UTF8.self)
        return Double(text)
    }

    /// After the top-level value: only whitespace may follow.
    public mutating func expectEnd() throws(JSONScanError) {
        skipWhitespace()
        if index < bytes.count { throw unexpected("expected the end of the input after the value") }
    }
}

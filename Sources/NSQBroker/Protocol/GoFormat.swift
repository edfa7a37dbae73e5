/// The few Go formatting and parsing rules nsqd's error texts depend on.
enum GoFormat {
    /// Go's `strconv.Quote` (the `%q` verb) for the bytes of a name: printable text as is,
    /// `"` and `\` escaped, control characters and invalid UTF-8 as `\xNN` / `\n` / `\uNNNN`.
    static func quote(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [UInt8(ascii: "\"")]
        var index = 0
        func append(_ string: String) { out.append(contentsOf: string.utf8) }
        func hex(_ value: UInt32, digits: Int) -> String {
            let text = String(value, radix: 16)
            return String(repeating: "0", count: max(0, digits - text.count)) + text
        }
        while index < bytes.count {
            let byte = bytes[index]
            if byte < 0x80 {
                switch byte {
                case UInt8(ascii: "\""): append("\\\"")
                case UInt8(ascii: "\\"): append("\\\\")
                case 0x07: append("\\a")
                case 0x08: append("\\b")
                case 0x0C: append("\\f")
                case 0x0A: append("\\n")
                case 0x0D: append("\\r")
                case 0x09: append("\\t")
                case 0x0B: append("\\v")
                case 0x20...0x7E: out.append(byte)
                default: append("\\x" + hex(UInt32(byte), digits: 2))
                }
                index += 1
                continue
            }
            // Decode one UTF-8 scalar; invalid sequences are escaped byte by byte.
            let length: Int
            switch byte {
            case 0xC2...0xDF: length = 2
            case 0xE0...0xEF: length = 3
            case 0xF0...0xF4: length = 4
            default: length = 0
            }
            if length > 0, index + length <= bytes.count,
               let scalar = String(validating: bytes[index..<index + length], as: UTF8.self)?.unicodeScalars.first {
                if scalar.properties.generalCategory == .control || scalar.properties.generalCategory == .format
                    || scalar.properties.generalCategory == .unassigned {
                    append(scalar.value > 0xFFFF ? "\\U" + hex(scalar.value, digits: 8) : "\\u" + hex(scalar.value, digits: 4))
                } else {
                    out.append(contentsOf: bytes[index..<index + length])
                }
                index += length
            } else {
                append("\\x" + hex(UInt32(byte), digits: 2))
                index += 1
            }
        }
        out.append(UInt8(ascii: "\""))
        return out
    }

    /// nsqd's `protocol.ByteToBase10`: decimal digits only (empty is 0), wrapping on overflow like Go's uint64.
    static func base10(_ bytes: some Collection<UInt8>) -> UInt64? {
        var value: UInt64 = 0
        for byte in bytes {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            value = value &* 10 &+ UInt64(byte - UInt8(ascii: "0"))
        }
        return value
    }
}

/// A video's GUID, kept as 128 bits so counting and hashing never touch strings.
/// Its text form is the canonical lowercase `8-4-4-4-12` GUID.
public struct VideoID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var high: UInt64
    public var low: UInt64

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// Parses a GUID in `8-4-4-4-12` hex form, either case; nil for anything else.
    public init?(_ text: some StringProtocol) {
        let parsed =
            text.utf8.withContiguousStorageIfAvailable { VideoID(utf8: UnsafeRawBufferPointer($0)) }
            ?? Array(text.utf8).withUnsafeBytes { VideoID(utf8: $0) }
        guard let parsed else { return nil }
        self = parsed
    }

    public static func < (lhs: VideoID, rhs: VideoID) -> Bool {
        (lhs.high, lhs.low) < (rhs.high, rhs.low)
    }

    public var description: String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(36)
        appendCanonicalUTF8(to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }
}

extension VideoID {
    /// Parses a GUID in `8-4-4-4-12` hex form, either case, straight from UTF-8 bytes (no String needed).
    public init?(utf8 bytes: UnsafeRawBufferPointer) {
        guard bytes.count == 36,
            bytes[8] == UInt8(ascii: "-"), bytes[13] == UInt8(ascii: "-"),
            bytes[18] == UInt8(ascii: "-"), bytes[23] == UInt8(ascii: "-")
        else { return nil }
        var invalid = false
        var high: UInt64 = 0
        var low: UInt64 = 0
        @inline(__always) func take(_ range: Range<Int>, into word: inout UInt64) {
            for index in range {
                let nibble = Self.nibble(bytes[index])
                invalid = invalid || nibble > 0xF
                word = word << 4 | UInt64(nibble & 0xF)
            }
        }
        take(0..<8, into: &high)
        take(9..<13, into: &high)
        take(14..<18, into: &high)
        take(19..<23, into: &low)
        take(24..<36, into: &low)
        if invalid { return nil }
        self.init(high: high, low: low)
    }

    /// The value of a hex digit, or 0xFF for any other byte (branch-light, for the hot path).
    @inline(__always)
    static func nibble(_ byte: UInt8) -> UInt8 {
        let digit = byte &- UInt8(ascii: "0")
        if digit < 10 { return digit }
        let letter = (byte | 0x20) &- UInt8(ascii: "a")
        return letter < 6 ? letter + 10 : 0xFF
    }

    /// Appends the canonical lowercase text form (36 bytes) to `buffer` without building a String.
    public func appendCanonicalUTF8(to buffer: inout [UInt8]) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 36) { text in
            var position = 0
            for digit in 0..<32 {
                if digit == 8 || digit == 12 || digit == 16 || digit == 20 {
                    text[position] = UInt8(ascii: "-")
                    position += 1
                }
                let word = digit < 16 ? high : low
                let nibble = UInt8(truncatingIfNeeded: word >> UInt64(60 - 4 * (digit % 16))) & 0xF
                text[position] = nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") - 10 + nibble
                position += 1
            }
            buffer.append(contentsOf: UnsafeBufferPointer(text))
        }
    }
}

extension VideoID {
    /// Parses a GUID in `8-4-4-4-12` hex form, either case, straight from UTF-8 bytes (no String needed).
    init?(utf8 bytes: UnsafeRawBufferPointer) {
        guard bytes.count == 36 else { return nil }
        var high: UInt64 = 0
        var low: UInt64 = 0
        var digits = 0
        for index in 0..<36 {
            let byte = bytes[index]
            if index == 8 || index == 13 || index == 18 || index == 23 {
                guard byte == UInt8(ascii: "-") else { return nil }
                continue
            }
            guard let value = JSONByteScanner.hexValue(byte) else { return nil }
            if digits < 16 { high = high << 4 | UInt64(value) } else { low = low << 4 | UInt64(value) }
            digits += 1
        }
        self.init(high: high, low: low)
    }

    /// Appends the canonical lowercase text form to `buffer` without building a String.
    func appendCanonicalUTF8(to buffer: inout [UInt8]) {
        for digit in 0..<32 {
            if digit == 8 || digit == 12 || digit == 16 || digit == 20 { buffer.append(UInt8(ascii: "-")) }
            let word = digit < 16 ? high : low
            let nibble = UInt8((word >> UInt64(60 - 4 * (digit % 16))) & 0xF)
            buffer.append(nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10)
        }
    }
}

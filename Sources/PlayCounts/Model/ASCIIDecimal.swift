/// Decimal digits written straight into a byte buffer (no `String` on the hot path), shared by every
/// hand-written line encoder (publish calls, RFC 3339 timestamps, trace lines).
public enum ASCIIDecimal {
    /// Appends `value` in decimal with a leading `-` when negative.
    public static func append(_ value: Int64, to out: inout [UInt8]) {
        if value < 0 { out.append(UInt8(ascii: "-")) }
        appendDigits(value.magnitude, minimumWidth: 1, to: &out)
    }

    /// Appends `value` in decimal, zero-padded to `minimumWidth`, with one append call.
    public static func appendDigits(_ value: UInt64, minimumWidth: Int, to out: inout [UInt8]) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var magnitude = value
            var start = 20
            repeat {
                start -= 1
                digits[start] = UInt8(ascii: "0") + UInt8(truncatingIfNeeded: magnitude % 10)
                magnitude /= 10
            } while magnitude > 0 || 20 - start < min(minimumWidth, 20)
            out.append(contentsOf: UnsafeBufferPointer(rebasing: digits[start..<20]))
        }
    }
}

/// Encodes a ``PublishCall`` as the JSON object every client sends:
/// `{"sequence": 7, "published_at": "2026-11-29T07:00:00.123456Z", "counts": {"<video_id>": 120, …}}`.
///
/// Hand-written (no JSONEncoder): keys in a fixed order, counts in the call's order, video IDs in canonical
/// lowercase form, so output is deterministic and byte-for-byte testable.
public enum PublishCallEncoder {
    /// The JSON object's UTF-8 bytes, without a trailing newline (the webhook body).
    public static func encode(_ call: PublishCall) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(64 + call.counts.count * 52)
        append(call, to: &out)
        return out
    }

    /// The JSON object followed by `\n` (a stdout or file line).
    public static func encodeLine(_ call: PublishCall) -> [UInt8] {
        var out = encode(call)
        out.append(UInt8(ascii: "\n"))
        return out
    }

    /// Appends the JSON object to `out`.
    public static func append(_ call: PublishCall, to out: inout [UInt8]) {
        out.append(contentsOf: #"{"sequence": "#.utf8)
        appendDecimal(Int64(call.sequence), to: &out)
        out.append(contentsOf: #", "published_at": ""#.utf8)
        RFC3339.appendMicroseconds(call.publishedAt, to: &out)
        out.append(contentsOf: #"", "counts": {"#.utf8)
        for (position, count) in call.counts.enumerated() {
            if position > 0 { out.append(contentsOf: ", ".utf8) }
            out.append(UInt8(ascii: "\""))
            count.video.appendCanonicalUTF8(to: &out)
            out.append(contentsOf: #"": "#.utf8)
            appendDecimal(Int64(count.plays), to: &out)
        }
        out.append(contentsOf: "}}".utf8)
    }

    static func appendDecimal(_ value: Int64, to out: inout [UInt8]) {
        if value < 0 { out.append(UInt8(ascii: "-")) }
        appendDigits(value.magnitude, minimumWidth: 1, to: &out)
    }

    /// Appends `value` in decimal, zero-padded to `minimumWidth`, with one append call.
    static func appendDigits(_ value: UInt64, minimumWidth: Int, to out: inout [UInt8]) {
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

/// RFC 3339 timestamps in UTC from nanoseconds since the epoch, without Foundation.
public enum RFC3339 {
    /// `2026-11-29T07:00:00.123456Z` (microseconds, truncated toward the past).
    public static func microseconds(_ instant: WallNanoseconds) -> String {
        var out: [UInt8] = []
        appendMicroseconds(instant, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    static func appendMicroseconds(_ instant: WallNanoseconds, to out: inout [UInt8]) {
        let nanosPerSecond: Int64 = 1_000_000_000
        var seconds = instant / nanosPerSecond
        var nanos = instant % nanosPerSecond
        if nanos < 0 {
            nanos += nanosPerSecond
            seconds -= 1
        }
        var days = seconds / 86_400
        var secondOfDay = seconds % 86_400
        if secondOfDay < 0 {
            secondOfDay += 86_400
            days -= 1
        }
        let (year, month, day) = civilDate(daysSinceEpoch: days)
        appendPadded(year, width: 4, to: &out)
        out.append(UInt8(ascii: "-"))
        appendPadded(month, width: 2, to: &out)
        out.append(UInt8(ascii: "-"))
        appendPadded(day, width: 2, to: &out)
        out.append(UInt8(ascii: "T"))
        appendPadded(secondOfDay / 3600, width: 2, to: &out)
        out.append(UInt8(ascii: ":"))
        appendPadded(secondOfDay / 60 % 60, width: 2, to: &out)
        out.append(UInt8(ascii: ":"))
        appendPadded(secondOfDay % 60, width: 2, to: &out)
        out.append(UInt8(ascii: "."))
        appendPadded(nanos / 1000, width: 6, to: &out)
        out.append(UInt8(ascii: "Z"))
    }

    /// Howard Hinnant's `civil_from_days`: proleptic Gregorian date for a day count since 1970-01-01.
    static func civilDate(daysSinceEpoch: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = daysSinceEpoch + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    private static func appendPadded(_ value: Int64, width: Int, to out: inout [UInt8]) {
        if value < 0 { out.append(UInt8(ascii: "-")) }
        PublishCallEncoder.appendDigits(value.magnitude, minimumWidth: width, to: &out)
    }
}

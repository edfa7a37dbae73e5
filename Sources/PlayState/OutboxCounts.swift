import PlayCounts

/// The counts of the outbox call as one blob: 24 bytes per video (id high, id low, plays; big-endian).
/// A call carries at most 20 videos, so a blob is cheaper than a child table and is written in one row update.
enum OutboxCounts {
    static let bytesPerCount = 24

    static func encode(_ counts: [VideoCount]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(counts.count * bytesPerCount)
        for count in counts {
            append(count.video.high, to: &bytes)
            append(count.video.low, to: &bytes)
            append(UInt64(bitPattern: Int64(count.plays)), to: &bytes)
        }
        return bytes
    }

    /// Nil when the blob's length is not a whole number of entries.
    static func decode(_ bytes: [UInt8]) -> [VideoCount]? {
        guard bytes.count % bytesPerCount == 0 else { return nil }
        var counts: [VideoCount] = []
        counts.reserveCapacity(bytes.count / bytesPerCount)
        var offset = 0
        while offset < bytes.count {
            let high = read(bytes, at: offset)
            let low = read(bytes, at: offset + 8)
            let plays = Int64(bitPattern: read(bytes, at: offset + 16))
            counts.append(VideoCount(video: VideoID(high: high, low: low), plays: Int(plays)))
            offset += bytesPerCount
        }
        return counts
    }

    private static func append(_ value: UInt64, to bytes: inout [UInt8]) {
        for shift in stride(from: 56, through: 0, by: -8) {
            bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift)))
        }
    }

    private static func read(_ bytes: [UInt8], at offset: Int) -> UInt64 {
        var value: UInt64 = 0
        for index in offset..<(offset + 8) { value = value << 8 | UInt64(bytes[index]) }
        return value
    }
}

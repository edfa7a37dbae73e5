import PlayCounts

/// The counts of the outbox call as one blob (`UInt64Triples`: video id high, video id low, plays). A call
/// carries at most 20 videos, so a blob is cheaper than a child table and is written in one row update.
enum OutboxCounts {
    static let bytesPerCount = UInt64Triples.bytesPerEntry

    static func encode(_ counts: [VideoCount]) -> [UInt8] {
        UInt64Triples.encode(count: counts.count) { index in
            let count = counts[index]
            return (count.video.high, count.video.low, UInt64(bitPattern: Int64(count.plays)))
        }
    }

    /// Nil when the blob's length is not a whole number of entries.
    static func decode(_ bytes: [UInt8]) -> [VideoCount]? {
        bytes.withUnsafeBytes { raw in
            UInt64Triples.decode(raw) { VideoCount(video: VideoID(high: $0, low: $1), plays: Int(Int64(bitPattern: $2))) }
        }
    }
}

/// Where a routed play first arrived: the message `route` read from `<topic>`, whose queue time and id the
/// play keeps on its way to the partition's owner.
///
/// The owner's deadlines run from ``queuedAt`` (rules 1 and 2 from the play's first arrival on the queue, not
/// from its second), and it counts the play under the original id, so a router that crashed after publishing
/// and is sent the message again cannot make the owner count it twice.
public struct PlayOrigin: Hashable, Sendable {
    /// The original NSQ timestamp: nanoseconds since the epoch.
    public var queuedAt: WallNanoseconds
    /// The original 16-byte message id, first and last 8 bytes big-endian (as `NSQMessageID`).
    public var idHigh: UInt64
    public var idLow: UInt64
    /// How many times the original was delivered to a router when this copy was published: above 1, an earlier
    /// delivery may have been routed too (its copy may be counted already).
    public var attempts: Int

    public init(queuedAt: WallNanoseconds, idHigh: UInt64, idLow: UInt64, attempts: Int) {
        self.queuedAt = queuedAt
        self.idHigh = idHigh
        self.idLow = idLow
        self.attempts = attempts
    }
}

/// A play message as parsed: its video and, for a routed copy, where it first arrived.
public struct ParsedPlay: Hashable, Sendable {
    public var video: VideoID
    public var origin: PlayOrigin?

    public init(video: VideoID, origin: PlayOrigin? = nil) {
        self.video = video
        self.origin = origin
    }
}

/// The body `route` publishes to a partition topic: the play plus its origin, one JSON object, keys in this
/// order: `{"video_id":"<GUID>","queued_at":<ns>,"origin_id":"<16 bytes>","origin_attempts":<n>}`.
///
/// Any NSQ consumer can still read `video_id`; ``PlayMessageParser`` reads the rest.
public enum RoutedPlayBody {
    public static func encode(_ video: VideoID, origin: PlayOrigin) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(130)
        append(video, origin: origin, to: &out)
        return out
    }

    public static func append(_ video: VideoID, origin: PlayOrigin, to out: inout [UInt8]) {
        out.append(contentsOf: #"{"video_id":""#.utf8)
        video.appendCanonicalUTF8(to: &out)
        out.append(contentsOf: #"","queued_at":"#.utf8)
        ASCIIDecimal.append(origin.queuedAt, to: &out)
        out.append(contentsOf: #","origin_id":""#.utf8)
        for word in [origin.idHigh, origin.idLow] {
            for shift in stride(from: 56, through: 0, by: -8) {
                let byte = UInt8(truncatingIfNeeded: word >> UInt64(shift))
                // nsqd's ids are hex digits; anything else would need escaping, so it is written as \u00XX.
                if byte >= 0x20, byte < 0x7F, byte != UInt8(ascii: "\""), byte != UInt8(ascii: "\\") {
                    out.append(byte)
                } else {
                    out.append(contentsOf: "\\u00".utf8)
                    let hex: [UInt8] = Array("0123456789abcdef".utf8)
                    out.append(hex[Int(byte >> 4)])
                    out.append(hex[Int(byte & 0xF)])
                }
            }
        }
        out.append(contentsOf: #"","origin_attempts":"#.utf8)
        ASCIIDecimal.append(Int64(origin.attempts), to: &out)
        out.append(UInt8(ascii: "}"))
    }
}

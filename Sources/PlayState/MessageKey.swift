import NSQ
import PlayCounts

/// Identifies one NSQ message for exactly-once counting: its 16-byte id plus the queue timestamp nsqd stamped
/// on it. The timestamp makes an accidental id reuse (e.g. a broker restarted with a reset id generator)
/// practically impossible to confuse with a redelivery, since a redelivery keeps both id and timestamp.
public struct MessageKey: Hashable, Sendable, CustomStringConvertible {
    /// The first 8 ASCII bytes of the message id, big-endian (as `NSQMessageID.high`).
    public var idHigh: UInt64
    /// The last 8 ASCII bytes of the message id, big-endian (as `NSQMessageID.low`).
    public var idLow: UInt64
    /// The NSQ message timestamp: nanoseconds since the epoch when the message arrived on the queue.
    public var timestamp: WallNanoseconds

    public init(idHigh: UInt64, idLow: UInt64, timestamp: WallNanoseconds) {
        self.idHigh = idHigh
        self.idLow = idLow
        self.timestamp = timestamp
    }

    public init(id: NSQMessageID, timestamp: WallNanoseconds) {
        self.init(idHigh: id.high, idLow: id.low, timestamp: timestamp)
    }

    /// The key of a message as nsqd delivered it.
    public init(_ message: NSQMessage) {
        self.init(id: message.id, timestamp: message.timestamp)
    }

    public var id: NSQMessageID { NSQMessageID(high: idHigh, low: idLow) }

    public var description: String { "\(id)@\(timestamp)" }
}

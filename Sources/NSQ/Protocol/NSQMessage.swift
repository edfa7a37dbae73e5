import NIOCore

/// The 16 ASCII hex bytes nsqd uses to identify a message, kept as raw bytes for cheap hashing.
public struct NSQMessageID: Hashable, Sendable, CustomStringConvertible {
    /// The first 8 ASCII bytes, big-endian.
    public var high: UInt64
    /// The last 8 ASCII bytes, big-endian.
    public var low: UInt64

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// Reads the 16 ASCII bytes of an id; nil when fewer than 16 are readable.
    public init?(buffer: inout ByteBuffer) {
        guard let high = buffer.readInteger(as: UInt64.self),
              let low = buffer.readInteger(as: UInt64.self) else { return nil }
        self.init(high: high, low: low)
    }

    /// Parses the textual form used in FIN/REQ/TOUCH; nil unless exactly 16 bytes.
    public init?(_ text: Substring) {
        let utf8 = Array(text.utf8)
        guard utf8.count == 16 else { return nil }
        var high: UInt64 = 0
        var low: UInt64 = 0
        for byte in utf8[0..<8] { high = high << 8 | UInt64(byte) }
        for byte in utf8[8..<16] { low = low << 8 | UInt64(byte) }
        self.init(high: high, low: low)
    }

    /// Writes the 16 ASCII bytes.
    public func write(to buffer: inout ByteBuffer) {
        buffer.writeInteger(high)
        buffer.writeInteger(low)
    }

    public var description: String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(16)
        for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: high >> UInt64(shift))) }
        for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: low >> UInt64(shift))) }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// One message as nsqd delivers it in a type-2 frame.
public struct NSQMessage: Sendable, Equatable {
    /// Nanoseconds since the Unix epoch, set by nsqd when the message was published.
    /// It survives requeues and is the same on every channel: "the time the play arrived on the queue".
    public var timestamp: Int64
    /// 1 on first delivery, +1 per redelivery.
    public var attempts: UInt16
    public var id: NSQMessageID
    public var body: ByteBuffer

    public init(timestamp: Int64, attempts: UInt16, id: NSQMessageID, body: ByteBuffer) {
        self.timestamp = timestamp
        self.attempts = attempts
        self.id = id
        self.body = body
    }
}

/// The `int32` frame type nsqd puts after each frame's size.
public enum NSQFrameType: Int32, Sendable {
    case response = 0
    case error = 1
    case message = 2
}

/// Constants of protocol V2 that both ends share.
public enum NSQProtocol {
    /// The four bytes a client sends first: two spaces and "V2".
    public static let magicV2: [UInt8] = Array("  V2".utf8)
    /// The response nsqd sends as a heartbeat.
    public static let heartbeat = "_heartbeat_"
    /// The version string this implementation matches.
    public static let version = "1.3.0"

    /// nsqd's rule for topic and channel names: `[.a-zA-Z0-9_-]{1,64}`, optionally ending in `#ephemeral`.
    public static func isValidName(_ name: some StringProtocol) -> Bool {
        var utf8 = Substring(name).utf8
        let suffix = "#ephemeral".utf8
        if utf8.count > suffix.count, utf8.suffix(suffix.count).elementsEqual(suffix) {
            utf8 = utf8.dropLast(suffix.count)
        }
        guard (1...64).contains(utf8.count) else { return false }
        return utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"):
                return true
            default:
                return false
            }
        }
    }
}

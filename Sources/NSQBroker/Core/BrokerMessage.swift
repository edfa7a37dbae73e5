import NIOCore
import NSQ

/// A message as the broker keeps it: what goes into a type-2 frame.
struct BrokerMessage {
    var id: NSQMessageID
    /// Nanoseconds since the epoch at publish time; kept across requeues and channels.
    var timestamp: Int64
    /// Deliveries so far; incremented just before each delivery, as nsqd does.
    var attempts: UInt16
    var body: ByteBuffer
}

/// A message delivered to a client and not yet finished, requeued or timed out.
struct InFlightMessage {
    var message: BrokerMessage
    var clientID: Int64
    var deliveredAt: NIODeadline
    var deadline: NIODeadline
}

/// A message waiting for its DPUB or REQ delay to pass.
struct DeferredMessage {
    var message: BrokerMessage
    var due: NIODeadline
}

/// Makes nsqd-style message ids: unique per broker, 16 lowercase hex digits.
struct MessageIDGenerator {
    private var next: UInt64

    /// Starts from the clock (milliseconds shifted left) so ids of successive runs do not collide.
    init(seed: UInt64) {
        next = seed << 20
    }

    mutating func make() -> NSQMessageID {
        let value = next
        next &+= 1
        return Self.id(from: value)
    }

    static func id(from value: UInt64) -> NSQMessageID {
        func hexWord(_ half: UInt32) -> UInt64 {
            var word: UInt64 = 0
            for shift in stride(from: 28, through: 0, by: -4) {
                let nibble = UInt8((half >> UInt32(shift)) & 0xF)
                let ascii = nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10
                word = word << 8 | UInt64(ascii)
            }
            return word
        }
        return NSQMessageID(high: hexWord(UInt32(value >> 32)), low: hexWord(UInt32(truncatingIfNeeded: value)))
    }
}

import NIOCore

/// A command a client sends to nsqd (protocol V2).
public enum NSQCommand: Sendable, Equatable {
    /// The four bytes `"  V2"` that open a connection.
    case magic
    /// `IDENTIFY` with a JSON body.
    case identify(ByteBuffer)
    case subscribe(topic: String, channel: String)
    case ready(Int)
    case finish(NSQMessageID)
    /// `REQ <id> <ms>`: redeliver after the delay, attempts + 1.
    case requeue(NSQMessageID, delayMilliseconds: Int64)
    case touch(NSQMessageID)
    case nop
    /// `CLS`: stop sending; the server answers `CLOSE_WAIT`.
    case close
    case publish(topic: String, body: ByteBuffer)
    case multiPublish(topic: String, bodies: [ByteBuffer])
    case deferredPublish(topic: String, delayMilliseconds: Int64, body: ByteBuffer)

    /// Appends the exact wire bytes of this command.
    public func encode(into out: inout ByteBuffer) {
        switch self {
        case .magic:
            out.writeBytes(NSQProtocol.magicV2)
        case .identify(let body):
            out.writeStaticString("IDENTIFY\n")
            out.writeInteger(UInt32(body.readableBytes))
            out.writeImmutableBuffer(body)
        case .subscribe(let topic, let channel):
            out.writeStaticString("SUB ")
            out.writeString(topic)
            out.writeStaticString(" ")
            out.writeString(channel)
            out.writeStaticString("\n")
        case .ready(let count):
            out.writeStaticString("RDY ")
            out.writeDecimal(Int64(count))
            out.writeStaticString("\n")
        case .finish(let id):
            out.writeStaticString("FIN ")
            id.write(to: &out)
            out.writeStaticString("\n")
        case .requeue(let id, let delay):
            out.writeStaticString("REQ ")
            id.write(to: &out)
            out.writeStaticString(" ")
            out.writeDecimal(delay)
            out.writeStaticString("\n")
        case .touch(let id):
            out.writeStaticString("TOUCH ")
            id.write(to: &out)
            out.writeStaticString("\n")
        case .nop:
            out.writeStaticString("NOP\n")
        case .close:
            out.writeStaticString("CLS\n")
        case .publish(let topic, let body):
            out.writeStaticString("PUB ")
            out.writeString(topic)
            out.writeStaticString("\n")
            out.writeInteger(UInt32(body.readableBytes))
            out.writeImmutableBuffer(body)
        case .multiPublish(let topic, let bodies):
            out.writeStaticString("MPUB ")
            out.writeString(topic)
            out.writeStaticString("\n")
            var size = 4
            for body in bodies { size += 4 + body.readableBytes }
            out.writeInteger(UInt32(size))
            out.writeInteger(UInt32(bodies.count))
            for body in bodies {
                out.writeInteger(UInt32(body.readableBytes))
                out.writeImmutableBuffer(body)
            }
        case .deferredPublish(let topic, let delay, let body):
            out.writeStaticString("DPUB ")
            out.writeString(topic)
            out.writeStaticString(" ")
            out.writeDecimal(delay)
            out.writeStaticString("\n")
            out.writeInteger(UInt32(body.readableBytes))
            out.writeImmutableBuffer(body)
        }
    }
}

extension ByteBuffer {
    /// Writes an integer in decimal ASCII without going through `String`.
    mutating func writeDecimal(_ value: Int64) {
        if value < 0 {
            writeInteger(UInt8(ascii: "-"))
            writeDecimal(UInt64(value.magnitude))
        } else {
            writeDecimal(UInt64(value))
        }
    }

    mutating func writeDecimal(_ value: UInt64) {
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        var rest = value
        withUnsafeMutableBytes(of: &digits) { raw in
            repeat {
                raw[19 - count] = UInt8(ascii: "0") + UInt8(rest % 10)
                rest /= 10
                count += 1
            } while rest > 0
            writeBytes(UnsafeRawBufferPointer(rebasing: raw[(20 - count)...]))
        }
    }
}

/// Encodes ``NSQCommand``s onto the wire.
public struct NSQCommandEncoder: MessageToByteEncoder, Sendable {
    public typealias OutboundIn = NSQCommand

    public init() {}

    public func encode(data: NSQCommand, out: inout ByteBuffer) throws {
        data.encode(into: &out)
    }
}

import NIOCore
import NSQ

/// One command a client sent, as the decoder hands it to the connection.
///
/// Commands with a body (`IDENTIFY`, `AUTH`, `PUB`, `MPUB`, `DPUB`) arrive already validated up to and
/// including their body, in nsqd's order; `FIN <id>` has a fast path; every other line comes as its
/// space-separated parameters and the connection validates it.
enum NSQClientCommand: Equatable, Sendable {
    case identify(body: ByteBuffer)
    case auth(body: ByteBuffer)
    case publish(topic: String, body: ByteBuffer)
    case multiPublish(topic: String, bodies: [ByteBuffer])
    case deferredPublish(topic: String, delayMilliseconds: Int64, body: ByteBuffer)
    case finish(NSQMessageID)
    /// Any other line, split on single spaces like nsqd's `bytes.Split(line, " ")`.
    case line([[UInt8]])
}

/// What the decoder produces for the connection.
enum NSQClientInbound: Equatable, Sendable {
    /// The client sent the `"  V2"` magic: the protocol starts (heartbeats begin).
    case accepted
    case command(NSQClientCommand)
    /// A fatal protocol error found while reading: send it, then close.
    case fatal(NSQBrokerError)
    /// nsqd drops the connection without a frame (a command line longer than its 16 KiB read buffer).
    case closeSilently
}

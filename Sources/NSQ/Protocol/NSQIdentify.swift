import Foundation
import NIOCore

/// What the client tells nsqd in `IDENTIFY` (always with `feature_negotiation`).
///
/// `outputBufferSize` and `outputBufferTimeout` decide how long nsqd may hold messages before
/// writing them; a realtime consumer must choose them deliberately (see PROTOCOL.md).
public struct NSQIdentify: Sendable, Hashable {
    public var clientID: String
    public var hostname: String
    public var userAgent: String
    /// Heartbeat interval; nil keeps nsqd's default (30 s).
    public var heartbeatInterval: Duration?
    /// Per-connection message timeout; nil keeps nsqd's default (60 s).
    public var messageTimeout: Duration?
    /// Bytes nsqd buffers before writing; -1 disables buffering, nil keeps the default (16 KiB).
    public var outputBufferSize: Int?
    /// Longest time nsqd holds buffered output; -1 disables the timer, nil keeps the default (250 ms).
    public var outputBufferTimeout: Duration?

    public init(
        clientID: String, hostname: String, userAgent: String,
        heartbeatInterval: Duration? = nil, messageTimeout: Duration? = nil,
        outputBufferSize: Int? = nil, outputBufferTimeout: Duration? = nil
    ) {
        self.clientID = clientID
        self.hostname = hostname
        self.userAgent = userAgent
        self.heartbeatInterval = heartbeatInterval
        self.messageTimeout = messageTimeout
        self.outputBufferSize = outputBufferSize
        self.outputBufferTimeout = outputBufferTimeout
    }

    /// The JSON body of the IDENTIFY command, keys in the order nsqd's own clients send them.
    public func jsonBody() -> ByteBuffer {
        var fields: [(String, String)] = [
            ("client_id", Self.quoted(clientID)),
            ("hostname", Self.quoted(hostname)),
            ("user_agent", Self.quoted(userAgent)),
            ("feature_negotiation", "true"),
        ]
        if let heartbeatInterval { fields.append(("heartbeat_interval", String(heartbeatInterval.milliseconds))) }
        if let messageTimeout { fields.append(("msg_timeout", String(messageTimeout.milliseconds))) }
        if let outputBufferSize { fields.append(("output_buffer_size", String(outputBufferSize))) }
        if let outputBufferTimeout { fields.append(("output_buffer_timeout", String(outputBufferTimeout.milliseconds))) }
        let json = "{" + fields.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}"
        return ByteBuffer(string: json)
    }

    private static func quoted(_ text: String) -> String {
        // JSONSerialization escapes exactly what JSON needs; a bare string is a valid fragment.
        if let data = try? JSONSerialization.data(withJSONObject: text, options: [.fragmentsAllowed, .withoutEscapingSlashes]),
           let quoted = String(data: data, encoding: .utf8) {
            return quoted
        }
        return "\"\""
    }
}

/// The parts of nsqd's IDENTIFY reply (with feature negotiation) the client uses.
public struct NSQIdentifyResponse: Sendable, Hashable, Decodable {
    public var maxRdyCount: Int
    public var version: String?
    public var maxMsgTimeout: Int?
    public var msgTimeout: Int?
    public var outputBufferSize: Int?
    public var outputBufferTimeout: Int?
    public var authRequired: Bool?

    enum CodingKeys: String, CodingKey {
        case maxRdyCount = "max_rdy_count"
        case version
        case maxMsgTimeout = "max_msg_timeout"
        case msgTimeout = "msg_timeout"
        case outputBufferSize = "output_buffer_size"
        case outputBufferTimeout = "output_buffer_timeout"
        case authRequired = "auth_required"
    }

    public init(maxRdyCount: Int) { self.maxRdyCount = maxRdyCount }

    /// Parses the reply; a plain `OK` (an nsqd without feature negotiation) means nsqd's default of 2500.
    public init(frameBody: ByteBuffer) throws {
        if frameBody.readableBytesView.elementsEqual("OK".utf8) {
            self.init(maxRdyCount: 2500)
            return
        }
        do {
            self = try JSONDecoder().decode(Self.self, from: Data(frameBody.readableBytesView))
        } catch {
            throw NSQClientError.unexpectedResponse(String(buffer: frameBody))
        }
    }
}

extension Duration {
    /// Whole milliseconds, rounded down.
    var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }

    /// The same span for NIO's timers, to the nanosecond.
    var timeAmount: TimeAmount {
        let (seconds, attoseconds) = components
        return .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}

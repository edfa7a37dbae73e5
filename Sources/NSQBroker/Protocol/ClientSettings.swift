import NIOCore
import NSQ

/// A client's negotiable settings and nsqd's IDENTIFY rules for them (`client_v2.go`), without sockets.
struct ClientSettings: Equatable {
    /// nil: heartbeats disabled (`heartbeat_interval` -1), and with them the read deadline.
    var heartbeatInterval: TimeAmount?
    /// 1 means unbuffered (`output_buffer_size` -1).
    var outputBufferSize: Int
    /// Zero: no timed flush.
    var outputBufferTimeout: TimeAmount
    var sampleRate: Int32 = 0
    var messageTimeout: TimeAmount

    init(configuration: NSQBrokerConfiguration) {
        heartbeatInterval = configuration.heartbeatInterval
        outputBufferSize = configuration.outputBufferSize
        outputBufferTimeout = configuration.outputBufferTimeout
        messageTimeout = configuration.msgTimeout
    }

    private static func milliseconds(_ amount: TimeAmount) -> Int { Int(amount.nanoseconds / 1_000_000) }

    /// Applies an IDENTIFY in nsqd's order; the first invalid value throws nsqd's `E_BAD_BODY` text.
    mutating func apply(_ request: IdentifyRequest, configuration: NSQBrokerConfiguration) throws(NSQBrokerError) {
        switch request.heartbeatInterval {
        case -1: heartbeatInterval = nil
        case 0: break
        case let value where value >= 1000 && value <= Self.milliseconds(configuration.maxHeartbeatInterval):
            heartbeatInterval = .milliseconds(Int64(value))
        case let value: throw .badBody("IDENTIFY heartbeat interval (\(value)) is invalid")
        }

        switch request.outputBufferTimeout {
        case -1: outputBufferTimeout = .zero
        case 0: break
        case let value where value >= Self.milliseconds(configuration.minOutputBufferTimeout)
            && value <= Self.milliseconds(configuration.maxOutputBufferTimeout):
            outputBufferTimeout = .milliseconds(Int64(value))
        case let value: throw .badBody("IDENTIFY output buffer timeout (\(value)) is invalid")
        }

        switch request.outputBufferSize {
        case -1:
            // Every write goes straight to the socket, and there is nothing left for a timer to flush.
            outputBufferSize = 1
            outputBufferTimeout = .zero
        case 0: break
        case let value where value >= 64 && value <= configuration.maxOutputBufferSize:
            outputBufferSize = value
        case let value: throw .badBody("IDENTIFY output buffer size (\(value)) is invalid")
        }

        guard request.sampleRate >= 0, request.sampleRate <= 99 else {
            throw .badBody("IDENTIFY sample rate (\(request.sampleRate)) is invalid")
        }
        sampleRate = request.sampleRate

        switch request.msgTimeout {
        case 0: break
        case let value where value >= 1000 && value <= Self.milliseconds(configuration.maxMsgTimeout):
            messageTimeout = .milliseconds(Int64(value))
        case let value: throw .badBody("IDENTIFY msg timeout (\(value)) is invalid")
        }
    }

    /// The feature-negotiation reply, field for field as nsqd v1.3.0 marshals it. TLS, deflate and snappy
    /// are not offered, so they are `false` whatever the client asked.
    func negotiationReply(configuration: NSQBrokerConfiguration) -> String {
        "{\"max_rdy_count\":\(configuration.maxRdyCount),\"version\":\"\(NSQProtocol.version)\","
            + "\"max_msg_timeout\":\(Self.milliseconds(configuration.maxMsgTimeout)),"
            + "\"msg_timeout\":\(Self.milliseconds(messageTimeout)),\"tls_v1\":false,\"deflate\":false,"
            + "\"deflate_level\":6,\"max_deflate_level\":6,\"snappy\":false,\"sample_rate\":\(sampleRate),"
            + "\"auth_required\":false,\"output_buffer_size\":\(outputBufferSize),"
            + "\"output_buffer_timeout\":\(Self.milliseconds(outputBufferTimeout))}"
    }
}

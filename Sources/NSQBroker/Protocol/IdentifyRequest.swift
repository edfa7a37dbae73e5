import Foundation
import NIOCore

/// The fields of an IDENTIFY body nsqd reads (`identifyDataV2`); absent fields are zero, as in Go.
struct IdentifyRequest: Decodable, Equatable {
    var clientID = ""
    var hostname = ""
    var userAgent = ""
    var featureNegotiation = false
    var heartbeatInterval = 0
    var outputBufferSize = 0
    var outputBufferTimeout = 0
    var sampleRate: Int32 = 0
    var msgTimeout = 0
    var tlsV1 = false
    var deflate = false
    var deflateLevel = 0
    var snappy = false

    private enum CodingKeys: String, CodingKey {
        case clientID = "client_id", hostname, userAgent = "user_agent"
        case featureNegotiation = "feature_negotiation", heartbeatInterval = "heartbeat_interval"
        case outputBufferSize = "output_buffer_size", outputBufferTimeout = "output_buffer_timeout"
        case sampleRate = "sample_rate", msgTimeout = "msg_timeout", tlsV1 = "tls_v1"
        case deflate, deflateLevel = "deflate_level", snappy
    }

    init() {}

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        clientID = try container.decodeIfPresent(String.self, forKey: .clientID) ?? ""
        hostname = try container.decodeIfPresent(String.self, forKey: .hostname) ?? ""
        userAgent = try container.decodeIfPresent(String.self, forKey: .userAgent) ?? ""
        featureNegotiation = try container.decodeIfPresent(Bool.self, forKey: .featureNegotiation) ?? false
        heartbeatInterval = try container.decodeIfPresent(Int.self, forKey: .heartbeatInterval) ?? 0
        outputBufferSize = try container.decodeIfPresent(Int.self, forKey: .outputBufferSize) ?? 0
        outputBufferTimeout = try container.decodeIfPresent(Int.self, forKey: .outputBufferTimeout) ?? 0
        sampleRate = try container.decodeIfPresent(Int32.self, forKey: .sampleRate) ?? 0
        msgTimeout = try container.decodeIfPresent(Int.self, forKey: .msgTimeout) ?? 0
        tlsV1 = try container.decodeIfPresent(Bool.self, forKey: .tlsV1) ?? false
        deflate = try container.decodeIfPresent(Bool.self, forKey: .deflate) ?? false
        deflateLevel = try container.decodeIfPresent(Int.self, forKey: .deflateLevel) ?? 0
        snappy = try container.decodeIfPresent(Bool.self, forKey: .snappy) ?? false
    }

    /// Parses a body; nil when it is not a JSON object of the right field types.
    static func parse(_ body: ByteBuffer) -> IdentifyRequest? {
        let data = Data(body.readableBytesView)
        return try? JSONDecoder().decode(IdentifyRequest.self, from: data)
    }
}

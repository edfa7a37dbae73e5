import NIOCore
import Testing
@testable import NSQBroker

/// IDENTIFY negotiation rules, without sockets.
@Suite("Client settings")
struct ClientSettingsTests {
    static let configuration = NSQBrokerConfiguration()

    static func negotiate(_ json: String) throws(NSQBrokerError) -> ClientSettings {
        guard let request = IdentifyRequest.parse(ByteBuffer(string: json)) else {
            throw .badBody("IDENTIFY failed to decode JSON body")
        }
        var settings = ClientSettings(configuration: configuration)
        try settings.apply(request, configuration: configuration)
        return settings
    }

    @Test func defaultsMatchNsqd() throws {
        let settings = try Self.negotiate("{}")
        #expect(settings.heartbeatInterval == .seconds(30))
        #expect(settings.outputBufferSize == 16384)
        #expect(settings.outputBufferTimeout == .milliseconds(250))
        #expect(settings.messageTimeout == .seconds(60))
        #expect(settings.negotiationReply(configuration: Self.configuration)
                == #"{"max_rdy_count":2500,"version":"1.3.0","max_msg_timeout":900000,"msg_timeout":60000,"tls_v1":false,"deflate":false,"deflate_level":6,"max_deflate_level":6,"snappy":false,"sample_rate":0,"auth_required":false,"output_buffer_size":16384,"output_buffer_timeout":250}"#)
    }

    @Test func unbufferedOutputAlsoDropsTheTimer() throws {
        let settings = try Self.negotiate(#"{"output_buffer_size":-1,"output_buffer_timeout":100}"#)
        #expect(settings.outputBufferSize == 1)
        #expect(settings.outputBufferTimeout == .zero)
    }

    @Test func minusOneDisables() throws {
        let settings = try Self.negotiate(#"{"heartbeat_interval":-1,"output_buffer_timeout":-1}"#)
        #expect(settings.heartbeatInterval == nil)
        #expect(settings.outputBufferTimeout == .zero)
        #expect(settings.outputBufferSize == 16384)
    }

    @Test func acceptedValues() throws {
        let settings = try Self.negotiate(
            #"{"heartbeat_interval":1000,"output_buffer_size":64,"output_buffer_timeout":25,"msg_timeout":1000,"sample_rate":99}"#)
        #expect(settings == {
            var expected = ClientSettings(configuration: Self.configuration)
            expected.heartbeatInterval = .seconds(1)
            expected.outputBufferSize = 64
            expected.outputBufferTimeout = .milliseconds(25)
            expected.messageTimeout = .seconds(1)
            expected.sampleRate = 99
            return expected
        }())
    }

    @Test(arguments: [
        (#"{"heartbeat_interval":999}"#, "IDENTIFY heartbeat interval (999) is invalid"),
        (#"{"heartbeat_interval":60001}"#, "IDENTIFY heartbeat interval (60001) is invalid"),
        (#"{"output_buffer_timeout":24}"#, "IDENTIFY output buffer timeout (24) is invalid"),
        (#"{"output_buffer_size":63}"#, "IDENTIFY output buffer size (63) is invalid"),
        (#"{"output_buffer_size":65537}"#, "IDENTIFY output buffer size (65537) is invalid"),
        (#"{"sample_rate":100}"#, "IDENTIFY sample rate (100) is invalid"),
        (#"{"msg_timeout":900001}"#, "IDENTIFY msg timeout (900001) is invalid"),
        (#"{"heartbeat_interval":"1000"}"#, "IDENTIFY failed to decode JSON body"),
        ("[]", "IDENTIFY failed to decode JSON body"),
    ])
    func refusedValues(json: String, text: String) {
        #expect(throws: NSQBrokerError.badBody(text)) { try Self.negotiate(json) }
    }

    @Test func oddConfigurationsDoNotTrap() throws {
        // A maximum below nsqd's fixed minimum must refuse values, not crash building a range.
        var configuration = NSQBrokerConfiguration()
        configuration.maxHeartbeatInterval = .milliseconds(500)
        configuration.maxMsgTimeout = .milliseconds(10)
        var settings = ClientSettings(configuration: configuration)
        let request = IdentifyRequest.parse(ByteBuffer(string: #"{"heartbeat_interval":2000}"#))!
        #expect(throws: NSQBrokerError.self) { try settings.apply(request, configuration: configuration) }
    }
}

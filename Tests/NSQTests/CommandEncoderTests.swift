import NIOCore
import Testing
@testable import NSQ

@Suite struct CommandEncoderTests {
    static func encoded(_ command: NSQCommand) -> [UInt8] {
        var buffer = ByteBuffer()
        command.encode(into: &buffer)
        return buffer.bytes
    }

    @Test func identifyMatchesGolden() {
        let identify = NSQIdentify(
            clientID: "golden", hostname: "golden", userAgent: "golden/1.0",
            heartbeatInterval: .milliseconds(2000), outputBufferSize: -1)
        #expect(Self.encoded(.identify(identify.jsonBody())) == Golden.identifyCommand)
    }

    @Test func publishCommandsMatchGolden() {
        #expect(Self.encoded(.publish(topic: "plays", body: ByteBuffer(string: #"{"video_id":"0f8fad5b-d9cb-469f-a165-70867728950e"}"#))) == Golden.pubCommand)
        #expect(Self.encoded(.multiPublish(topic: "plays", bodies: [
            ByteBuffer(string: #"{"video_id":"7c9e6679-7425-40de-944b-e07fc1f90ae7"}"#), ByteBuffer(string: "not json"),
        ])) == Golden.mpubCommand)
        #expect(Self.encoded(.deferredPublish(topic: "plays", delayMilliseconds: 500, body: ByteBuffer(string: #"{"video_id":"deferred-500ms"}"#))) == Golden.dpubCommand)
    }

    @Test func lineCommandsMatchGolden() throws {
        let id = try #require(NSQMessageID("18ac9fa22c269000"))
        #expect(Self.encoded(.magic) == Array("  V2".utf8))
        #expect(Self.encoded(.subscribe(topic: "plays", channel: "processor")) == Array("SUB plays processor\n".utf8))
        #expect(Self.encoded(.ready(10)) == Array("RDY 10\n".utf8))
        #expect(Self.encoded(.ready(0)) == Array("RDY 0\n".utf8))
        #expect(Self.encoded(.finish(id)) == Array("FIN 18ac9fa22c269000\n".utf8))
        #expect(Self.encoded(.requeue(id, delayMilliseconds: 0)) == Array("REQ 18ac9fa22c269000 0\n".utf8))
        #expect(Self.encoded(.requeue(id, delayMilliseconds: 1_234_567)) == Array("REQ 18ac9fa22c269000 1234567\n".utf8))
        #expect(Self.encoded(.touch(id)) == Array("TOUCH 18ac9fa22c269000\n".utf8))
        #expect(Self.encoded(.nop) == Array("NOP\n".utf8))
        #expect(Self.encoded(.close) == Array("CLS\n".utf8))
    }

    @Test func decimalWriterHandlesEdges() {
        for value: Int64 in [0, 9, 10, 99, 100, -1, -250, Int64.max, Int64.min] {
            var buffer = ByteBuffer()
            buffer.writeDecimal(value)
            #expect(String(buffer: buffer) == String(value))
        }
    }

    @Test func identifyEscapesStrings() {
        let body = NSQIdentify(clientID: "a\"b", hostname: "h\\", userAgent: "u/1").jsonBody()
        #expect(String(buffer: body) == #"{"client_id":"a\"b","hostname":"h\\","user_agent":"u/1","feature_negotiation":true}"#)
    }
}

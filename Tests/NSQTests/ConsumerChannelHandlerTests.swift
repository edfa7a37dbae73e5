import NIOConcurrencyHelpers
import NIOCore
import NIOEmbedded
import Testing
@testable import NSQ

/// The consumer handler driven through an EmbeddedChannel with the golden transcript's frames.
@Suite struct ConsumerChannelHandlerTests {
    final class Recorder: Sendable {
        let deliveries = NIOLockedValueBox<[NSQDelivery]>([])
        let gaveUp = NIOLockedValueBox<[NSQMessage]>([])
    }

    struct Fixture {
        let channel: EmbeddedChannel
        let recorder: Recorder
        let status: NIOLockedValueBox<NSQConnectionStatus>
        let handle: NSQConnectionHandle

        /// All bytes the handler wrote so far, as text (binary bytes as \xNN).
        func written() throws -> String {
            var text = ""
            while let buffer = try channel.readOutbound(as: ByteBuffer.self) {
                for byte in buffer.readableBytesView {
                    if byte == 0x0A || (0x20..<0x7F).contains(byte) { text.append(Character(UnicodeScalar(byte))) }
                    else { text += "\\x" + String(byte, radix: 16) }
                }
            }
            return text
        }

        func receive(_ frames: [UInt8]...) throws {
            try channel.writeInbound(ByteBuffer(bytes: frames.flatMap { $0 }))
        }
    }

    static func makeFixture(maxAttempts: UInt16 = 5) throws -> Fixture {
        let channel = EmbeddedChannel()
        let recorder = Recorder()
        let status = NIOLockedValueBox(NSQConnectionStatus(address: "test:4150"))
        let identify = NSQIdentify(clientID: "golden", hostname: "golden", userAgent: "golden/1.0",
                                   heartbeatInterval: .milliseconds(2000), outputBufferSize: -1)
        let handler = ConsumerChannelHandler(
            stateMachine: ConsumerConnectionStateMachine(topic: "plays", channel: "processor", identify: identify, maxAttempts: maxAttempts),
            callbacks: .init(
                deliver: { delivery in recorder.deliveries.withLockedValue { $0.append(delivery) } },
                giveUp: { message in recorder.gaveUp.withLockedValue { $0.append(message) } },
                nonFatalError: { _ in }),
            status: status, closeTimeout: .seconds(1), subscribed: channel.eventLoop.makePromise())
        let handle = NSQConnectionHandle(address: "test:4150", channel: channel, handler: handler)
        handler.attach(handle: handle)
        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(NSQFrameDecoder()))
        try channel.pipeline.syncOperations.addHandler(handler)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 4150)).wait()
        return Fixture(channel: channel, recorder: recorder, status: status, handle: handle)
    }

    @Test func goldenSessionProducesGoldenCommands() throws {
        let fixture = try Self.makeFixture()
        #expect(try fixture.written() == "  V2" + "IDENTIFY\n\\x0\\x0\\x0\\x91" + #"{"client_id":"golden","hostname":"golden","user_agent":"golden/1.0","feature_negotiation":true,"heartbeat_interval":2000,"output_buffer_size":-1}"#)
        fixture.handle.setReady(10)
        try fixture.receive(Golden.identifyResponse)
        #expect(try fixture.written() == "SUB plays processor\n")
        try fixture.receive(Golden.ok)
        #expect(try fixture.written() == "RDY 10\n")
        #expect(fixture.status.withLockedValue { $0.state } == .subscribed)

        // Three messages in one read become one delivery.
        try fixture.receive(Golden.message1, Golden.message2, Golden.message3)
        let deliveries = fixture.recorder.deliveries.withLockedValue { $0 }
        #expect(deliveries.count == 1)
        let messages = try #require(deliveries.first).messages
        #expect(messages.map(\.id.description) == ["18ac9fa22c269000", "18ac9fa22c669000", "18ac9fa22c669001"])
        #expect(fixture.status.withLockedValue { ($0.received, $0.inFlight) } == (3, 3))

        let delivery = try #require(deliveries.first)
        delivery.finish(messages[0].id)
        delivery.requeue(messages[1].id, delay: .zero)
        delivery.touch(messages[2].id)
        #expect(try fixture.written() == "FIN 18ac9fa22c269000\nREQ 18ac9fa22c669000 0\nTOUCH 18ac9fa22c669001\n")

        try fixture.receive(Golden.message2Redelivered, Golden.heartbeat)
        #expect(try fixture.written() == "NOP\n")
        #expect(fixture.recorder.deliveries.withLockedValue { $0.count } == 2)

        // Graceful close: CLS, CLOSE_WAIT, then the channel closes once the last FIN went out.
        fixture.handle.gracefulClose()
        #expect(try fixture.written() == "CLS\n")
        try fixture.receive(Golden.closeWait)
        #expect(fixture.channel.isActive)
        // finishAll FINs by id: 669000 was redelivered with the same id, so this settles everything.
        delivery.finishAll()
        #expect(try fixture.written() == "FIN 18ac9fa22c669000\nFIN 18ac9fa22c669001\n")
        #expect(!fixture.channel.isActive)
        let second = fixture.recorder.deliveries.withLockedValue { $0[1] }
        second.finishAll()
        #expect(try fixture.written() == "", "nothing in flight any more")
        let status = fixture.status.withLockedValue { $0 }
        #expect(status.finished == 3 && status.requeued == 1 && status.state == .closed)
    }

    @Test func messagesBeyondMaxAttemptsGoToTheHookAndAreFinished() throws {
        let fixture = try Self.makeFixture(maxAttempts: 1)
        fixture.handle.setReady(1)
        try fixture.receive(Golden.identifyResponse, Golden.ok)
        _ = try fixture.written()
        try fixture.receive(Golden.message1, Golden.message2Redelivered)
        #expect(fixture.recorder.gaveUp.withLockedValue { $0.map(\.attempts) } == [2])
        #expect(fixture.recorder.deliveries.withLockedValue { $0.first?.messages.count } == 1)
        #expect(try fixture.written() == "FIN 18ac9fa22c669000\n")
        _ = try? fixture.channel.finish()
    }

    @Test func silentServerIsDroppedAfterTheReadTimeout() throws {
        let fixture = try Self.makeFixture()
        fixture.channel.pipeline.fireUserInboundEventTriggered(IdleStateHandler.IdleStateEvent.read)
        #expect(!fixture.channel.isActive)
        #expect(fixture.status.withLockedValue { $0.lastError } == NSQClientError.idleTimeout.description)
    }

    @Test func garbageClosesTheConnection() throws {
        let fixture = try Self.makeFixture()
        _ = try fixture.written()
        // The handler catches the decoder's error itself and closes; nothing escapes the pipeline.
        try fixture.channel.writeInbound(ByteBuffer(bytes: [0xFF, 0xFF, 0xFF, 0xFF, 1]))
        #expect(!fixture.channel.isActive)
        #expect(fixture.status.withLockedValue { $0.lastError } != nil)
    }
}

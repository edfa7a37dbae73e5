import NIOCore
import Testing
@testable import NSQBroker

/// Topic/channel semantics, flow control, requeue and timeouts, over real loopback sockets.
@Suite("Delivery")
struct DeliveryTests {
    /// A subscribed consumer: IDENTIFY (unbuffered output unless told), SUB, RDY.
    static func consumer(port: Int, topic: String = "plays", channel: String, rdy: Int = 10,
                         identify: String = #"{"output_buffer_size":-1}"#) async throws -> TestSocket {
        let socket = try TestSocket.v2(port: port)
        socket.identify(identify)
        #expect(try await socket.readFrame().text == "OK")
        socket.send("SUB \(topic) \(channel)\n")
        #expect(try await socket.readFrame().text == "OK")
        if rdy > 0 { socket.send("RDY \(rdy)\n") }
        return socket
    }

    static func bodies(_ texts: [String]) -> [ByteBuffer] { texts.map { ByteBuffer(string: $0) } }

    @Test func everyChannelGetsEveryMessageWithTheSameIDAndTimestamp() async throws {
        try await withBroker { broker, port, _ in
            let first = try await Self.consumer(port: port, channel: "one")
            let second = try await Self.consumer(port: port, channel: "two")
            try await broker.publish(topic: "plays", bodies: Self.bodies(["a", "b", "c"]))
            let fromFirst = try await first.readNonHeartbeats(3)
            let fromSecond = try await second.readNonHeartbeats(3)
            #expect(fromFirst.map { String(decoding: $0.body, as: UTF8.self) } == ["a", "b", "c"])
            #expect(fromFirst.map(\.messageID) == fromSecond.map(\.messageID))
            #expect(fromFirst.map(\.timestamp) == fromSecond.map(\.timestamp))
            #expect(Set(fromFirst.map(\.messageID)).count == 3)
        }
    }

    @Test func consumersOfOneChannelShareItRoundRobin() async throws {
        try await withBroker { broker, port, _ in
            let first = try await Self.consumer(port: port, channel: "shared", rdy: 100)
            let second = try await Self.consumer(port: port, channel: "shared", rdy: 100)
            try await eventually("both subscribed") {
                let clients = await broker.stats().topic("plays")?.channel("shared")?.clients ?? []
                return clients.count == 2 && clients.allSatisfy { $0.readyCount == 100 }
            }
            try await broker.publish(topic: "plays", bodies: Self.bodies((0..<10).map { "m\($0)" }))
            let a = try await first.readNonHeartbeats(5)
            let b = try await second.readNonHeartbeats(5)
            let all = Set((a + b).map { String(decoding: $0.body, as: UTF8.self) })
            #expect(all == Set((0..<10).map { "m\($0)" }))
        }
    }

    @Test func messagesWaitInTheTopicUntilTheFirstChannel() async throws {
        try await withBroker { broker, port, _ in
            try await broker.publish(topic: "early", bodies: Self.bodies(["x", "y"]))
            #expect(await broker.stats().topic("early")?.depth == 2)
            let socket = try await Self.consumer(port: port, topic: "early", channel: "late")
            #expect(try await socket.readNonHeartbeat().body == Array("x".utf8))
            #expect(try await socket.readNonHeartbeat().body == Array("y".utf8))
            let stats = await broker.stats().topic("early")
            #expect(stats?.depth == 0)
            #expect(stats?.channel("late")?.messageCount == 2)
        }
    }

    @Test func readyCountCapsMessagesInFlight() async throws {
        try await withBroker { broker, port, _ in
            let socket = try await Self.consumer(port: port, channel: "capped", rdy: 2)
            try await broker.publish(topic: "plays", bodies: Self.bodies(["1", "2", "3", "4"]))
            let first = try await socket.readNonHeartbeat()
            _ = try await socket.readNonHeartbeat()
            try await eventually("two in flight, two waiting") {
                let channel = await broker.stats().topic("plays")?.channel("capped")
                return channel?.inFlightCount == 2 && channel?.depth == 2
            }
            socket.send("FIN \(first.messageID)\n")
            #expect(try await socket.readNonHeartbeat().body == Array("3".utf8))
        }
    }

    @Test func requeueWithDelayIsDeferredThenRedelivered() async throws {
        try await withBroker { broker, port, _ in
            let socket = try await Self.consumer(port: port, channel: "req", rdy: 1)
            try await broker.publish(topic: "plays", bodies: Self.bodies(["again"]))
            let first = try await socket.readNonHeartbeat()
            #expect(first.attempts == 1)
            socket.send("REQ \(first.messageID) 300\n")
            try await eventually("deferred") {
                await broker.stats().topic("plays")?.channel("req")?.deferredCount == 1
            }
            let second = try await socket.readNonHeartbeat()
            #expect(second.attempts == 2)
            #expect(second.messageID == first.messageID)
            #expect(second.timestamp == first.timestamp)
            #expect(await broker.stats().topic("plays")?.channel("req")?.requeueCount == 1)
        }
    }

    @Test func unfinishedMessageTimesOutAndIsRedelivered() async throws {
        try await withBroker { broker, port, _ in
            let socket = try await Self.consumer(port: port, channel: "slow", rdy: 1,
                                           identify: #"{"output_buffer_size":-1,"msg_timeout":1000}"#)
            try await broker.publish(topic: "plays", bodies: Self.bodies(["late"]))
            let first = try await socket.readNonHeartbeat()
            let started = ContinuousClock.now
            let second = try await socket.readNonHeartbeat(timeout: .seconds(5))
            #expect(ContinuousClock.now - started >= .milliseconds(900))
            #expect(second.attempts == 2)
            #expect(second.messageID == first.messageID && second.timestamp == first.timestamp)
            #expect(await broker.stats().topic("plays")?.channel("slow")?.timeoutCount == 1)
            socket.send("FIN \(second.messageID)\n")
            try await eventually("settled") {
                await broker.stats().topic("plays")?.channel("slow")?.inFlightCount == 0
            }
        }
    }

    @Test func touchDefersTheTimeout() async throws {
        try await withBroker { broker, port, _ in
            let socket = try await Self.consumer(port: port, channel: "touch", rdy: 1,
                                           identify: #"{"output_buffer_size":-1,"msg_timeout":1000}"#)
            try await broker.publish(topic: "plays", bodies: Self.bodies(["keep"]))
            let message = try await socket.readNonHeartbeat()
            for _ in 0..<3 {
                try await Task.sleep(for: .milliseconds(500))
                socket.send("TOUCH \(message.messageID)\n")
            }
            #expect(await broker.stats().topic("plays")?.channel("touch")?.timeoutCount == 0)
            socket.send("FIN \(message.messageID)\n")
            socket.send("NOP\n")
            try await eventually("finished") {
                await broker.stats().topic("plays")?.channel("touch")?.inFlightCount == 0
            }
        }
    }

    @Test func closeWaitThenCloseOnceInFlightSettle() async throws {
        try await withBroker { broker, port, _ in
            let socket = try await Self.consumer(port: port, channel: "cls", rdy: 5)
            try await broker.publish(topic: "plays", bodies: Self.bodies(["one"]))
            let message = try await socket.readNonHeartbeat()
            socket.send("CLS\n")
            #expect(try await socket.readNonHeartbeat().text == "CLOSE_WAIT")
            try await broker.publish(topic: "plays", bodies: Self.bodies(["not for a closing client"]))
            await #expect(throws: TestSocket.Failure.self) { try await socket.readNonHeartbeat(timeout: .milliseconds(300)) }
            #expect(!socket.isClosedByPeer)
            socket.send("FIN \(message.messageID)\n")
            #expect(try await socket.readUntilClosed().allSatisfy { $0.isHeartbeat })
        }
    }

    @Test func missingTwoHeartbeatsClosesTheConnection() async throws {
        try await withBroker { _, port, _ in
            let socket = try TestSocket.v2(port: port)
            // Timed from before IDENTIFY, when the broker's heartbeat clock can start at the earliest: reading
            // the OK late (a busy machine) must not make the close look early.
            let started = ContinuousClock.now
            socket.identify(#"{"heartbeat_interval":1000}"#)
            #expect(try await socket.readFrame().text == "OK")
            let frames = try await socket.readUntilClosed(timeout: .seconds(6))
            let elapsed = ContinuousClock.now - started
            #expect(frames.filter { $0.isHeartbeat }.count >= 1)
            #expect(elapsed >= .milliseconds(1900) && elapsed < .seconds(4))
        }
    }

    @Test func answeringHeartbeatsKeepsTheConnection() async throws {
        try await withBroker { _, port, _ in
            let socket = try TestSocket.v2(port: port)
            socket.identify(#"{"heartbeat_interval":1000}"#)
            #expect(try await socket.readFrame().text == "OK")
            for _ in 0..<3 {
                #expect(try await socket.readFrame(timeout: .seconds(3)).isHeartbeat)
                socket.send("NOP\n")
            }
            #expect(!socket.isClosedByPeer)
        }
    }

    @Test func bufferedOutputFlushesWithinTheBufferTimeout() async throws {
        try await withBroker { broker, port, _ in
            let socket = try await Self.consumer(port: port, channel: "buffered", rdy: 100,
                                           identify: #"{"output_buffer_timeout":100}"#)
            try await eventually("ready") {
                await broker.stats().topic("plays")?.channel("buffered")?.clients.first?.readyCount == 100
            }
            let started = ContinuousClock.now
            try await broker.publish(topic: "plays", bodies: Self.bodies(["soon"]))
            #expect(try await socket.readNonHeartbeat(timeout: .seconds(2)).body == Array("soon".utf8))
            #expect(ContinuousClock.now - started < .milliseconds(900))
        }
    }

    @Test func finFromAnotherClientIsRefused() async throws {
        try await withBroker { broker, port, _ in
            let owner = try await Self.consumer(port: port, channel: "own", rdy: 1)
            let other = try await Self.consumer(port: port, channel: "own", rdy: 0)
            try await broker.publish(topic: "plays", bodies: Self.bodies(["mine"]))
            let message = try await owner.readNonHeartbeat()
            other.send("FIN \(message.messageID)\n")
            #expect(try await other.readNonHeartbeat().text == "E_FIN_FAILED FIN \(message.messageID) failed client does not own message")
        }
    }

    @Test func subscribeRequiresHeartbeats() async throws {
        try await withBroker { _, port, _ in
            let socket = try TestSocket.v2(port: port)
            socket.identify(#"{"heartbeat_interval":-1}"#)
            #expect(try await socket.readFrame().text == "OK")
            socket.send("SUB plays x\n")
            #expect(try await socket.readFrame().text == "E_INVALID cannot SUB with heartbeats disabled")
            #expect(try await socket.readUntilClosed().isEmpty)
        }
    }

    @Test func invalidIdentifySettingsAreFatal() async throws {
        try await withBroker { _, port, _ in
            for (json, text) in [
                (#"{"heartbeat_interval":5}"#, "E_BAD_BODY IDENTIFY heartbeat interval (5) is invalid"),
                (#"{"output_buffer_size":10}"#, "E_BAD_BODY IDENTIFY output buffer size (10) is invalid"),
                (#"{"msg_timeout":10}"#, "E_BAD_BODY IDENTIFY msg timeout (10) is invalid"),
                ("not json", "E_BAD_BODY IDENTIFY failed to decode JSON body"),
            ] {
                let socket = try TestSocket.v2(port: port)
                socket.identify(json)
                #expect(try await socket.readFrame().text == text)
                #expect(try await socket.readUntilClosed().isEmpty)
            }
        }
    }

    @Test func bufferedOutputFlushesAtOnceWhenTheClientIsNoLongerReady() async throws {
        try await withBroker { broker, port, _ in
            let socket = try await Self.consumer(port: port, channel: "full", rdy: 1,
                                                 identify: #"{"output_buffer_timeout":5000}"#)
            try await eventually("ready") {
                await broker.stats().topic("plays")?.channel("full")?.clients.first?.readyCount == 1
            }
            let started = ContinuousClock.now
            try await broker.publish(topic: "plays", bodies: Self.bodies(["now"]))
            #expect(try await socket.readNonHeartbeat(timeout: .seconds(3)).body == Array("now".utf8))
            #expect(ContinuousClock.now - started < .milliseconds(2500))
        }
    }

    /// A full output buffer is written at once, without waiting for the buffer timer (here 5 s).
    @Test func aFullOutputBufferIsWrittenWithoutWaitingForTheTimer() async throws {
        try await withBroker { broker, port, _ in
            let socket = try await Self.consumer(port: port, channel: "filled", rdy: 100,
                                                 identify: #"{"output_buffer_size":64,"output_buffer_timeout":5000}"#)
            try await eventually("ready") {
                await broker.stats().topic("plays")?.channel("filled")?.clients.first?.readyCount == 100
            }
            let started = ContinuousClock.now
            // Two 46-byte frames (30 bytes of header, 16 of body): the second overflows the 64-byte buffer.
            try await broker.publish(topic: "plays", bodies: Self.bodies(["first message 16", "second message16"]))
            #expect(try await socket.readNonHeartbeat(timeout: .seconds(4)).body == Array("first message 16".utf8))
            #expect(ContinuousClock.now - started < .milliseconds(4000))
        }
    }

    /// nsqd v1.3.0 measured: `output_buffer_timeout` -1 with a buffered size keeps messages until another
    /// flush (here the heartbeat).
    @Test func noBufferTimeoutWaitsForTheNextFlush() async throws {
        try await withBroker { broker, port, _ in
            let socket = try await Self.consumer(port: port, channel: "stuck", rdy: 10,
                                                 identify: #"{"output_buffer_timeout":-1,"heartbeat_interval":1000}"#)
            try await eventually("ready") {
                await broker.stats().topic("plays")?.channel("stuck")?.clients.first?.readyCount == 10
            }
            try await broker.publish(topic: "plays", bodies: Self.bodies(["held"]))
            let started = ContinuousClock.now
            let first = try await socket.readFrame(timeout: .seconds(3))
            #expect(first.body == Array("held".utf8))
            #expect(try await socket.readFrame(timeout: .milliseconds(200)).isHeartbeat)
            #expect(ContinuousClock.now - started > .milliseconds(300))
        }
    }

    @Test func ephemeralChannelAndTopicGoAwayWithTheirLastClient() async throws {
        try await withBroker { broker, port, _ in
            let socket = try await Self.consumer(port: port, topic: "t#ephemeral", channel: "c#ephemeral", rdy: 1)
            try await eventually("subscribed") { await broker.stats().topic("t#ephemeral")?.channel("c#ephemeral") != nil }
            socket.send("CLS\n")
            #expect(try await socket.readNonHeartbeat().text == "CLOSE_WAIT")
            #expect(try await socket.readUntilClosed().allSatisfy { $0.isHeartbeat })
            try await eventually("deleted") { await broker.stats().topic("t#ephemeral") == nil }
        }
    }

    @Test func deletingATopicDisconnectsItsSubscribers() async throws {
        try await withBroker { broker, port, http in
            let socket = try await Self.consumer(port: port, topic: "gone", channel: "c", rdy: 1)
            try await broker.publish(topic: "gone", bodies: Self.bodies(["in flight"]))
            _ = try await socket.readNonHeartbeat()
            let deleted = try await HTTPAPITests.request(http, "POST", "/topic/delete?topic=gone")
            #expect(deleted.status == 200)
            #expect(try await socket.readUntilClosed().allSatisfy { $0.isHeartbeat })
            #expect(await broker.stats().topic("gone") == nil)
            try await RobustnessTests.assertStillServes(broker, port: port)
        }
    }
}

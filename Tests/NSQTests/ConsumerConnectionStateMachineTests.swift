import NIOCore
import Testing
@testable import NSQ

@Suite struct ConsumerConnectionStateMachineTests {
    typealias Machine = ConsumerConnectionStateMachine

    static let identify = NSQIdentify(clientID: "c", hostname: "h", userAgent: "u")

    static func frame(_ bytes: [UInt8]) throws -> NSQFrame {
        var buffer = ByteBuffer(bytes: bytes)
        return try #require(try NSQFrameDecoder.decodeFrame(from: &buffer))
    }

    static func message(_ id: String, attempts: UInt16 = 1) throws -> NSQMessage {
        NSQMessage(timestamp: 1, attempts: attempts, id: try #require(NSQMessageID(Substring(id))), body: ByteBuffer(string: "x"))
    }

    /// A machine that has identified and subscribed, with RDY `ready`.
    static func subscribed(ready: Int = 10, maxAttempts: UInt16 = 5) throws -> Machine {
        var machine = Machine(topic: "plays", channel: "processor", identify: identify, maxAttempts: maxAttempts)
        _ = machine.connected()
        _ = machine.setReady(ready)
        _ = machine.frameReceived(try frame(Golden.identifyResponse))
        #expect(machine.frameReceived(try frame(Golden.ok)) == .subscribed(sendReady: ready))
        return machine
    }

    @Test func handshakeIdentifiesSubscribesThenSendsRDY() throws {
        var machine = Machine(topic: "plays", channel: "processor", identify: Self.identify, maxAttempts: 5)
        #expect(machine.connected() == .sendMagicAndIdentify(Self.identify.jsonBody()))
        #expect(machine.connected() == .none)
        #expect(machine.setReady(10) == .none, "no RDY before SUB is answered")
        guard case .subscribe(let topic, let channel, let response) = machine.frameReceived(try Self.frame(Golden.identifyResponse)) else {
            Issue.record("expected SUB"); return
        }
        #expect(topic == "plays" && channel == "processor")
        #expect(response.maxRdyCount == 2500)
        #expect(machine.frameReceived(try Self.frame(Golden.ok)) == .subscribed(sendReady: 10))
        #expect(machine.state == .subscribed)
        #expect(machine.setReady(10) == .none, "RDY is sent only when it changes")
        #expect(machine.setReady(4) == .write(.ready(4)))
    }

    @Test func readyIsClampedToMaxRdyCount() throws {
        var machine = try Self.subscribed(ready: 1)
        #expect(machine.setReady(99_999) == .write(.ready(2500)))
        #expect(machine.sentReady == 2500)
    }

    @Test func plainOKToIdentifyMeansDefaults() throws {
        var machine = Machine(topic: "t", channel: "c", identify: Self.identify, maxAttempts: 5)
        _ = machine.connected()
        guard case .subscribe(_, _, let response) = machine.frameReceived(try Self.frame(Golden.ok)) else {
            Issue.record("expected SUB"); return
        }
        #expect(response.maxRdyCount == 2500)
    }

    @Test func heartbeatIsAnsweredWithNOPInEveryConnectedState() throws {
        var machine = Machine(topic: "t", channel: "c", identify: Self.identify, maxAttempts: 5)
        #expect(machine.frameReceived(try Self.frame(Golden.heartbeat)) == .none, "not connected yet")
        _ = machine.connected()
        #expect(machine.frameReceived(try Self.frame(Golden.heartbeat)) == .answerHeartbeat)
        var subscribed = try Self.subscribed()
        #expect(subscribed.frameReceived(try Self.frame(Golden.heartbeat)) == .answerHeartbeat)
    }

    @Test func messagesAreDeliveredAndSettledOnce() throws {
        var machine = try Self.subscribed()
        let message = try Self.message("18ac9fa22c269000")
        #expect(machine.frameReceived(.message(message)) == .deliver(message))
        #expect(machine.inFlight.count == 1)
        #expect(machine.finish(message.id) == .write(.finish(message.id)))
        #expect(machine.finish(message.id) == .none, "a second FIN would be E_FIN_FAILED")
        #expect(machine.inFlight.isEmpty)
        let other = try Self.message("18ac9fa22c669000")
        _ = machine.frameReceived(.message(other))
        #expect(machine.touch(other.id) == .write(.touch(other.id)))
        #expect(machine.requeue(other.id, delay: .milliseconds(1500)) == .write(.requeue(other.id, delayMilliseconds: 1500)))
        #expect(machine.touch(other.id) == .none)
    }

    @Test func tooManyAttemptsGoToGiveUp() throws {
        var machine = try Self.subscribed(maxAttempts: 2)
        let second = try Self.message("18ac9fa22c269000", attempts: 2)
        let third = try Self.message("18ac9fa22c269001", attempts: 3)
        #expect(machine.frameReceived(.message(second)) == .deliver(second))
        #expect(machine.frameReceived(.message(third)) == .giveUp(third))
    }

    @Test func messageBeforeSubscribeIsAProtocolError() throws {
        var machine = Machine(topic: "t", channel: "c", identify: Self.identify, maxAttempts: 5)
        _ = machine.connected()
        guard case .closeChannel(let error?) = machine.frameReceived(.message(try Self.message("18ac9fa22c269000"))) else {
            Issue.record("expected close with an error"); return
        }
        #expect(error is NSQClientError)
    }

    @Test func nonFatalErrorsKeepTheConnectionFatalOnesClose() throws {
        var machine = try Self.subscribed()
        guard case .reportNonFatal(let error) = machine.frameReceived(try Self.frame(Golden.finFailed)) else {
            Issue.record("expected non-fatal"); return
        }
        #expect(error.code == "E_FIN_FAILED")
        #expect(machine.state == .subscribed)
        guard case .closeChannel(let fatal?) = machine.frameReceived(try Self.frame(Golden.rdyInvalid)) else {
            Issue.record("expected close"); return
        }
        #expect((fatal as? NSQServerError)?.code == "E_INVALID")
    }

    @Test func badIdentifyReplyCloses() throws {
        var machine = Machine(topic: "t", channel: "c", identify: Self.identify, maxAttempts: 5)
        _ = machine.connected()
        guard case .closeChannel(let error?) = machine.frameReceived(.response(ByteBuffer(string: "{nonsense"))) else {
            Issue.record("expected close"); return
        }
        #expect(error is NSQClientError)
    }

    @Test func gracefulCloseWaitsForInFlight() throws {
        var machine = try Self.subscribed()
        let message = try Self.message("18ac9fa22c269000")
        _ = machine.frameReceived(.message(message))
        #expect(machine.close() == .write(.close))
        #expect(machine.close() == .none)
        #expect(machine.frameReceived(try Self.frame(Golden.closeWait)) == .none, "one message still in flight")
        #expect(!machine.shouldCloseAfterSettling)
        #expect(machine.finish(message.id) == .write(.finish(message.id)), "FIN still allowed while closing")
        #expect(machine.shouldCloseAfterSettling)
        #expect(machine.channelInactive() == .reportClosed(lostInFlight: 0, error: nil))
        #expect(machine.channelInactive() == .none)
    }

    @Test func closeWaitWithNothingInFlightClosesAtOnce() throws {
        var machine = try Self.subscribed()
        _ = machine.close()
        #expect(machine.frameReceived(try Self.frame(Golden.closeWait)) == .closeChannel(error: nil))
    }

    @Test func closeTimeoutClosesAndReportsLostMessages() throws {
        var machine = try Self.subscribed()
        _ = machine.frameReceived(.message(try Self.message("18ac9fa22c269000")))
        _ = machine.close()
        #expect(machine.closeTimedOut() == .closeChannel(error: nil))
        #expect(machine.channelInactive() == .reportClosed(lostInFlight: 1, error: nil))
        #expect(machine.finish(try #require(NSQMessageID("18ac9fa22c269000"))) == .none)
    }

    @Test func closeBeforeSubscribedClosesAtOnce() {
        var machine = Machine(topic: "t", channel: "c", identify: Self.identify, maxAttempts: 5)
        _ = machine.connected()
        #expect(machine.close() == .closeChannel(error: nil))
    }
}

@Suite struct ProducerConnectionStateMachineTests {
    @Test func answersSettleRequestsInOrder() throws {
        var machine = ProducerConnectionStateMachine()
        let pub = NSQCommand.publish(topic: "t", body: ByteBuffer(string: "x"))
        #expect(machine.request(pub) == .send(pub))
        #expect(machine.request(pub) == .send(pub))
        #expect(machine.frameReceived(.response(ByteBuffer(string: NSQProtocol.heartbeat))) == .write(.nop))
        #expect(machine.frameReceived(.response(ByteBuffer(string: "OK"))) == .succeedNext)
        #expect(machine.outstanding == 1)
        let bad = NSQServerError(code: "E_BAD_TOPIC", message: "PUB topic name \"x!\" is not valid")
        #expect(machine.frameReceived(.error(bad)) == .failNextAndClose(bad))
        #expect(machine.request(pub) == .failRequest(.connectionClosed))
    }

    @Test func unsolicitedResponseCloses() {
        var machine = ProducerConnectionStateMachine()
        #expect(machine.frameReceived(.response(ByteBuffer(string: "OK"))) == .closeChannel(.unexpectedResponse("OK")))
    }

    @Test func inactiveFailsEverything() {
        var machine = ProducerConnectionStateMachine()
        _ = machine.request(.nop)
        #expect(machine.channelInactive() == .failAll(.connectionClosed))
        #expect(machine.outstanding == 0)
    }
}

@Suite struct ReadyDistributionTests {
    @Test func splitsEvenlyWithRemainder() {
        #expect(ReadyDistribution.distribute(maxInFlight: 10, maxReadyCounts: [2500, 2500]) == [5, 5])
        #expect(ReadyDistribution.distribute(maxInFlight: 11, maxReadyCounts: [2500, 2500, 2500]) == [4, 4, 3])
        #expect(ReadyDistribution.distribute(maxInFlight: 1, maxReadyCounts: [2500]) == [1])
        #expect(ReadyDistribution.distribute(maxInFlight: 5, maxReadyCounts: []) == [])
    }

    @Test func neverExceedsCapsOrTotal() {
        #expect(ReadyDistribution.distribute(maxInFlight: 10_000, maxReadyCounts: [2500, 100]) == [2500, 100])
        #expect(ReadyDistribution.distribute(maxInFlight: 300, maxReadyCounts: [100, 2500]) == [100, 200])
        #expect(ReadyDistribution.distribute(maxInFlight: 2, maxReadyCounts: [2500, 2500, 2500]) == [1, 1, 0])
        var rng = SplitMix64(seed: 3)
        for _ in 0..<500 {
            let caps = (0..<Int(rng.next() % 6)).map { _ in Int(rng.next() % 50) }
            let total = Int(rng.next() % 200) + 1
            let result = ReadyDistribution.distribute(maxInFlight: total, maxReadyCounts: caps)
            #expect(result.reduce(0, +) == min(total, caps.reduce(0, +)))
            #expect(zip(result, caps).allSatisfy { $0 <= $1 && $0 >= 0 })
        }
    }
}

@Suite struct BackoffTests {
    @Test func growsExponentiallyAndIsCapped() {
        let backoff = Backoff(initial: .milliseconds(100), maximum: .seconds(2))
        #expect(backoff.delay(afterFailures: 0, jitter: 0) == .zero)
        #expect(backoff.delay(afterFailures: 1, jitter: 0) == .milliseconds(100))
        #expect(backoff.delay(afterFailures: 2, jitter: 0) == .milliseconds(200))
        #expect(backoff.delay(afterFailures: 4, jitter: 0) == .milliseconds(800))
        #expect(backoff.delay(afterFailures: 10, jitter: 0) == .seconds(2))
        #expect(backoff.delay(afterFailures: 1000, jitter: 0.25) == .milliseconds(2500))
        #expect(backoff.delay(afterFailures: 1, jitter: 0.25) == .milliseconds(125))
    }
}

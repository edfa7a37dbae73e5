import NIOCore

/// The whole protocol of one consumer connection, as a value without sockets.
///
/// The channel handler feeds it events (connected, frame received, the application finished a
/// message, …) and performs the ``Action`` it returns. Tests drive it directly.
///
/// States: `initialized → identifying → subscribing → subscribed → closing → closed`.
struct ConsumerConnectionStateMachine {
    enum State: Equatable {
        case initialized
        /// Magic and IDENTIFY sent; waiting for the IDENTIFY reply.
        case identifying
        /// SUB sent; waiting for `OK`.
        case subscribing
        /// Receiving messages.
        case subscribed
        /// CLS sent; `closeWaitReceived` once the server answered `CLOSE_WAIT`.
        case closing(closeWaitReceived: Bool)
        case closed
    }

    /// What the handler must do next.
    enum Action: Equatable {
        case none
        /// Write these commands (the handler batches writes and flushes at the end of a read burst).
        case write(NSQCommand)
        /// The server sent `_heartbeat_`: answer with NOP.
        case answerHeartbeat
        /// Write magic, IDENTIFY.
        case sendMagicAndIdentify(ByteBuffer)
        /// IDENTIFY answered: write SUB.
        case subscribe(topic: String, channel: String, NSQIdentifyResponse)
        /// SUB answered: the connection may now receive; RDY follows if one is wanted.
        case subscribed(sendReady: Int?)
        /// Hand this message to the application (batched per read burst).
        case deliver(NSQMessage)
        /// Attempts exceed the maximum: report it to the failure hook, then FIN it.
        case giveUp(NSQMessage)
        /// The server rejected a FIN/REQ/TOUCH (id no longer in flight); the connection stays.
        case reportNonFatal(NSQServerError)
        /// Close the channel; `error` says why when it is not a graceful close.
        case closeChannel(error: (any Error)?)
        /// The channel is gone: report the lost in-flight count and the error, if any.
        case reportClosed(lostInFlight: Int, error: (any Error)?)

        /// Errors compare by presence only (`any Error` is not Equatable); enough for tests of the flow.
        static func == (lhs: Action, rhs: Action) -> Bool {
            switch (lhs, rhs) {
            case (.none, .none), (.answerHeartbeat, .answerHeartbeat): return true
            case let (.write(a), .write(b)): return a == b
            case let (.sendMagicAndIdentify(a), .sendMagicAndIdentify(b)): return a == b
            case let (.subscribe(t1, c1, r1), .subscribe(t2, c2, r2)): return t1 == t2 && c1 == c2 && r1 == r2
            case let (.subscribed(a), .subscribed(b)): return a == b
            case let (.deliver(a), .deliver(b)): return a == b
            case let (.giveUp(a), .giveUp(b)): return a == b
            case let (.reportNonFatal(a), .reportNonFatal(b)): return a == b
            case let (.closeChannel(a), .closeChannel(b)): return (a == nil) == (b == nil)
            case let (.reportClosed(a, e1), .reportClosed(b, e2)): return a == b && (e1 == nil) == (e2 == nil)
            default: return false
            }
        }
    }

    let topic: String
    let channel: String
    let identify: NSQIdentify
    /// Messages with more attempts than this go to the failure hook; 0 disables the check.
    let maxAttempts: UInt16

    private(set) var state: State = .initialized
    /// The server's cap from the IDENTIFY reply.
    private(set) var maxReadyCount = 2500
    /// The RDY the server was last told.
    private(set) var sentReady = 0
    /// The RDY the consumer wants; sent once subscribed.
    private(set) var wantedReady = 0
    /// Ids delivered and not yet finished or requeued.
    private(set) var inFlight = MessageIDSet()

    init(topic: String, channel: String, identify: NSQIdentify, maxAttempts: UInt16) {
        self.topic = topic
        self.channel = channel
        self.identify = identify
        self.maxAttempts = maxAttempts
    }

    // MARK: events from the channel

    mutating func connected() -> Action {
        guard state == .initialized else { return .none }
        state = .identifying
        return .sendMagicAndIdentify(identify.jsonBody())
    }

    mutating func frameReceived(_ frame: NSQFrame) -> Action {
        switch state {
        case .initialized, .closed:
            return .none
        case .identifying, .subscribing, .subscribed, .closing:
            break
        }
        if frame.isHeartbeat { return .answerHeartbeat }
        switch frame {
        case .message(let message):
            guard state == .subscribed || isClosing else {
                return closeWithError(NSQClientError.unexpectedResponse("message before SUB was answered"))
            }
            inFlight.insert(message.id)
            if maxAttempts > 0 && message.attempts > maxAttempts { return .giveUp(message) }
            return .deliver(message)
        case .error(let error):
            if !error.isFatal { return .reportNonFatal(error) }
            return closeWithError(error)
        case .response(let body):
            return responseReceived(body)
        }
    }

    private mutating func responseReceived(_ body: ByteBuffer) -> Action {
        switch state {
        case .identifying:
            do {
                let response = try NSQIdentifyResponse(frameBody: body)
                maxReadyCount = max(0, response.maxRdyCount)
                state = .subscribing
                return .subscribe(topic: topic, channel: channel, response)
            } catch {
                return closeWithError(error)
            }
        case .subscribing:
            guard body.readableBytesView.elementsEqual("OK".utf8) else {
                return closeWithError(NSQClientError.unexpectedResponse(String(buffer: body)))
            }
            state = .subscribed
            let ready = min(wantedReady, maxReadyCount)
            if ready != sentReady {
                sentReady = ready
                return .subscribed(sendReady: ready)
            }
            return .subscribed(sendReady: nil)
        case .closing:
            guard body.readableBytesView.elementsEqual("CLOSE_WAIT".utf8) else { return .none }
            state = .closing(closeWaitReceived: true)
            return inFlight.isEmpty ? .closeChannel(error: nil) : .none
        case .subscribed:
            // nsqd sends nothing else unsolicited; ignore stray OKs rather than tearing down.
            return .none
        case .initialized, .closed:
            return .none
        }
    }

    mutating func channelInactive(error: (any Error)? = nil) -> Action {
        if state == .closed { return .none }
        state = .closed
        let lost = inFlight.count
        inFlight.removeAll()
        return .reportClosed(lostInFlight: lost, error: error)
    }

    // MARK: requests from the application

    /// The consumer's share of max-in-flight for this connection (clamped to max_rdy_count).
    mutating func setReady(_ count: Int) -> Action {
        wantedReady = max(0, count)
        guard state == .subscribed else { return .none }
        let ready = min(wantedReady, maxReadyCount)
        guard ready != sentReady else { return .none }
        sentReady = ready
        return .write(.ready(ready))
    }

    mutating func finish(_ id: NSQMessageID) -> Action {
        settle(id, command: .finish(id))
    }

    mutating func requeue(_ id: NSQMessageID, delay: Duration) -> Action {
        settle(id, command: .requeue(id, delayMilliseconds: max(0, delay.milliseconds)))
    }

    mutating func touch(_ id: NSQMessageID) -> Action {
        guard canSettle, inFlight.contains(id) else { return .none }
        return .write(.touch(id))
    }

    /// True when a FIN/REQ just settled the last message after `CLOSE_WAIT`: close now.
    var shouldCloseAfterSettling: Bool {
        state == .closing(closeWaitReceived: true) && inFlight.isEmpty
    }

    /// Graceful stop: CLS, then close once `CLOSE_WAIT` came and nothing is in flight.
    mutating func close() -> Action {
        switch state {
        case .initialized, .identifying, .subscribing:
            state = .closing(closeWaitReceived: true)
            return .closeChannel(error: nil)
        case .subscribed:
            state = .closing(closeWaitReceived: false)
            return .write(.close)
        case .closing, .closed:
            return .none
        }
    }

    /// The bounded wait for in-flight messages is over.
    mutating func closeTimedOut() -> Action {
        switch state {
        case .closed: return .none
        default:
            state = .closing(closeWaitReceived: true)
            return .closeChannel(error: nil)
        }
    }

    // MARK: helpers

    private var isClosing: Bool {
        if case .closing = state { return true }
        return false
    }

    private var canSettle: Bool { state == .subscribed || isClosing }

    private mutating func settle(_ id: NSQMessageID, command: NSQCommand) -> Action {
        guard canSettle, inFlight.remove(id) else { return .none }
        return .write(command)
    }

    private mutating func closeWithError(_ error: any Error) -> Action {
        state = .closing(closeWaitReceived: true)
        return .closeChannel(error: error)
    }
}

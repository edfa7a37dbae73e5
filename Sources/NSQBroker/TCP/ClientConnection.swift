import NIOCore
import NSQ

/// One TCP client of the broker, speaking protocol V2 as nsqd's `protocol_v2.go` and `client_v2.go` do.
///
/// It receives decoded ``NSQClientInbound`` values, executes them against the loop-confined
/// ``BrokerCore``, and writes frames through ``ClientOutput`` with nsqd's costs and flush rules
/// (`protocol_v2.go`'s `messagePump`): each socket write of nsqd is a write and a flush here, so an unbuffered
/// client costs three writes per message, as on nsqd. Responses and errors are flushed at once; buffered
/// messages when the buffer fills, when the client is no longer ready, or at the tick of the
/// `output_buffer_timeout` timer, which runs from the connection's start (or its IDENTIFY) as nsqd's ticker
/// does. With `output_buffer_timeout` -1 and a buffered size, messages wait for one of the other events (a
/// heartbeat, for instance), exactly as nsqd v1.3.0 does.
final class ClientConnection: ChannelInboundHandler {
    typealias InboundIn = NSQClientInbound
    typealias OutboundOut = ByteBuffer

    /// nsqd's client states (`stateInit` … `stateClosing`), numbered as in its `/stats`.
    enum State: Int32 {
        case initial = 0
        case subscribed = 3
        case closing = 4
        case closed = 1
    }

    private let core: BrokerCore
    private(set) var id: Int64 = 0
    private var context: ChannelHandlerContext?
    private(set) var state: State = .initial
    private(set) var subscribedChannel: BrokerChannel?
    private(set) var hasPublished = false

    // Identity, as given by IDENTIFY.
    private var clientID = ""
    private var hostname = ""
    private var userAgent = ""
    private var remoteAddress = ""
    private let connectTime: Int64

    // Negotiated settings.
    private var settings: ClientSettings
    var sampleRate: Int32 { settings.sampleRate }
    var messageTimeout: TimeAmount { settings.messageTimeout }

    // Flow control and counters.
    private var readyCount: Int64 = 0
    private var inFlightCount: Int64 = 0
    private var messageCount: UInt64 = 0
    private var finishCount: UInt64 = 0
    private var requeueCount: UInt64 = 0

    // Output.
    private var output: ClientOutput
    /// When the output buffer timer started ticking (nsqd's `outputBufferTicker`, restarted by IDENTIFY).
    private var tickOrigin = NIODeadline.now()
    private var closeAfterFlush = false
    /// Slots were freed or RDY changed during the current read burst: dispatch at its end.
    private var dispatchAfterBurst = false
    private var flushTimer: Scheduled<Void>?
    private var heartbeatTask: Scheduled<Void>?
    private var idleCheck: Scheduled<Void>?
    private var lastCommandAt = NIODeadline.now()
    private var isTornDown = false

    init(core: BrokerCore) {
        self.core = core
        let configuration = core.configuration
        settings = ClientSettings(configuration: configuration)
        output = ClientOutput(capacity: settings.outputBufferSize, allocator: ByteBufferAllocator())
        connectTime = WallClock.nanoseconds() / 1_000_000_000
    }

    var isReadyForMessages: Bool {
        state == .subscribed && readyCount > 0 && inFlightCount < readyCount
    }

    var stats: NSQBrokerStats.Client {
        NSQBrokerStats.Client(
            clientID: clientID, hostname: hostname, userAgent: userAgent, remoteAddress: remoteAddress,
            state: state.rawValue, readyCount: readyCount, inFlightCount: inFlightCount,
            messageCount: messageCount, finishCount: finishCount, requeueCount: requeueCount,
            connectTime: connectTime, sampleRate: sampleRate)
    }

    // MARK: Channel lifecycle

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        output = ClientOutput(capacity: settings.outputBufferSize, allocator: context.channel.allocator)
        tickOrigin = .now()
        id = core.register(self)
        if let address = context.channel.remoteAddress, let ip = address.ipAddress, let port = address.port {
            remoteAddress = address.protocol == .inet6 ? "[\(ip)]:\(port)" : "\(ip):\(port)"
        }
        lastCommandAt = .now()
        // Until the magic arrives only the read deadline runs (two default intervals, nsqd's 60 s client timeout).
        if let interval = settings.heartbeatInterval { scheduleIdleCheck(interval: interval) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        tearDown()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        tearDown()
        self.context = nil
    }

    private func tearDown() {
        guard !isTornDown else { return }
        isTornDown = true
        state = .closed
        heartbeatTask?.cancel()
        heartbeatTask = nil
        idleCheck?.cancel()
        idleCheck = nil
        flushTimer?.cancel()
        flushTimer = nil
        if let channel = subscribedChannel {
            subscribedChannel = nil
            channel.removeClient(self)
        }
        core.unregister(self)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        closeConnection()
    }

    /// Closes the socket (server shutdown, channel deleted, missed heartbeats).
    func closeConnection() {
        guard let context, state != .closed else { return }
        flushNow()
        state = .closed
        context.close(promise: nil)
    }

    // MARK: Inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard state != .closed else { return }
        lastCommandAt = .now()
        switch unwrapInboundIn(data) {
        case .accepted:
            restartHeartbeat()
        case .fatal(let error):
            fail(error)
        case .closeSilently:
            closeConnection()
        case .command(let command):
            do {
                try execute(command)
            } catch {
                if error.isFatal { fail(error) } else { send(.error, error.frameBytes) }
            }
        }
    }

    /// The end of what was read: the commands of a burst (FINs, REQs, RDY) freed or changed the client's slots,
    /// and messages go out now. On nsqd the message pump runs beside the reading goroutine and wakes once for a
    /// burst of FINs (its ready-state channel holds one signal), so it too sends a burst's refill together.
    func channelReadComplete(context: ChannelHandlerContext) {
        if dispatchAfterBurst {
            dispatchAfterBurst = false
            subscribedChannel?.dispatch()
        }
        context.fireChannelReadComplete()
    }

    private func fail(_ error: NSQBrokerError) {
        send(.error, error.frameBytes)
        closeConnection()
    }

    private func execute(_ command: NSQClientCommand) throws(NSQBrokerError) {
        switch command {
        case .finish(let id):
            try finish(id)
        case .identify(let body):
            try identify(body)
        case .auth:
            throw NSQBrokerError(code: "E_AUTH_DISABLED", "AUTH disabled")
        case .publish(let topic, let body):
            hasPublished = true
            core.publish(topic: topic, bodies: [body])
            send(.response, Self.ok)
        case .multiPublish(let topic, let bodies):
            hasPublished = true
            core.publish(topic: topic, bodies: bodies)
            send(.response, Self.ok)
        case .deferredPublish(let topic, let delay, let body):
            hasPublished = true
            core.publish(topic: topic, bodies: [body], delay: .milliseconds(delay))
            send(.response, Self.ok)
        case .line(let params):
            try executeLine(params)
        }
    }

    private func executeLine(_ params: [[UInt8]]) throws(NSQBrokerError) {
        switch String(decoding: params[0], as: UTF8.self) {
        case "FIN":
            try requireSubscribedOrClosing("FIN")
            guard params.count >= 2 else { throw .invalid("FIN insufficient number of params") }
            try finish(Self.messageID(params[1]))
        case "RDY": try ready(params)
        case "REQ": try requeue(params)
        case "TOUCH": try touch(params)
        case "SUB": try subscribe(params)
        case "CLS": try startClose()
        case "NOP": break
        default:
            throw .invalid(Array("invalid command ".utf8), params[0])
        }
    }

    // MARK: Commands

    private func identify(_ body: ByteBuffer) throws(NSQBrokerError) {
        guard state == .initial else { throw .invalid("cannot IDENTIFY in current state") }
        guard let request = IdentifyRequest.parse(body) else { throw .badBody("IDENTIFY failed to decode JSON body") }
        clientID = request.clientID
        hostname = request.hostname
        userAgent = request.userAgent
        try settings.apply(request, configuration: core.configuration)
        // nsqd replaces the writer when a size is asked for (flushing the old one first) and restarts the
        // output buffer ticker with the negotiated timeout.
        if let flushed = output.flush() { write(flushed) }
        output = ClientOutput(capacity: settings.outputBufferSize, allocator: context?.channel.allocator ?? ByteBufferAllocator())
        tickOrigin = .now()
        restartHeartbeat()
        if request.featureNegotiation {
            send(.response, Array(settings.negotiationReply(configuration: core.configuration).utf8))
        } else {
            send(.response, Self.ok)
        }
    }

    private func subscribe(_ params: [[UInt8]]) throws(NSQBrokerError) {
        guard state == .initial else { throw .invalid("cannot SUB in current state") }
        guard settings.heartbeatInterval != nil else { throw .invalid("cannot SUB with heartbeats disabled") }
        guard params.count >= 3 else { throw .invalid("SUB insufficient number of parameters") }
        guard NSQCommandDecoder.isValidName(params[1]) else { throw .badTopic("SUB", params[1]) }
        guard NSQCommandDecoder.isValidName(params[2]) else { throw .badChannel("SUB", params[2]) }
        let topic = core.topic(named: String(decoding: params[1], as: UTF8.self))
        let channel = topic.channel(named: String(decoding: params[2], as: UTF8.self))
        state = .subscribed
        subscribedChannel = channel
        send(.response, Self.ok)
        channel.addClient(self)
    }

    private func ready(_ params: [[UInt8]]) throws(NSQBrokerError) {
        if state == .closing { return }  // nsqd ignores RDY after CLS
        guard state == .subscribed else { throw .invalid("cannot RDY in current state") }
        var count: Int64 = 1
        if params.count > 1 {
            guard let parsed = GoFormat.base10(params[1]) else {
                throw .invalid(Array("RDY could not parse count ".utf8), params[1])
            }
            count = Int64(bitPattern: parsed)
        }
        let maximum = core.configuration.maxRdyCount
        guard count >= 0, count <= maximum else { throw .invalid("RDY count \(count) out of range 0-\(maximum)") }
        readyCount = count
        flushUnlessReady()
        dispatchAfterBurst = true
    }

    private func finish(_ id: NSQMessageID) throws(NSQBrokerError) {
        try requireSubscribedOrClosing("FIN")
        guard let channel = subscribedChannel else { throw .invalid("cannot FIN in current state") }
        if let refusal = channel.finish(id, clientID: self.id) {
            throw Self.responseFailure("FIN", id, refusal)
        }
        finishCount &+= 1
        settled()
        dispatchAfterBurst = true
    }

    private func requeue(_ params: [[UInt8]]) throws(NSQBrokerError) {
        try requireSubscribedOrClosing("REQ")
        guard params.count >= 3 else { throw .invalid("REQ insufficient number of params") }
        let id = try Self.messageID(params[1])
        guard let milliseconds = GoFormat.base10(params[2]) else {
            throw .invalid(Array("REQ could not parse timeout ".utf8), params[2])
        }
        // nsqd clamps the delay into 0...max_req_timeout.
        let nanoseconds = Int64(bitPattern: milliseconds) &* 1_000_000
        let maximum = core.configuration.maxReqTimeout.nanoseconds
        let delay = TimeAmount.nanoseconds(nanoseconds < 0 ? 0 : min(nanoseconds, maximum))
        guard let channel = subscribedChannel else { throw .invalid("cannot REQ in current state") }
        if let refusal = channel.requeue(id, clientID: self.id, delay: delay) {
            throw Self.responseFailure("REQ", id, refusal)
        }
        requeueCount &+= 1
        settled()
        dispatchAfterBurst = true
    }

    private func touch(_ params: [[UInt8]]) throws(NSQBrokerError) {
        try requireSubscribedOrClosing("TOUCH")
        guard params.count >= 2 else { throw .invalid("TOUCH insufficient number of params") }
        let id = try Self.messageID(params[1])
        guard let channel = subscribedChannel else { throw .invalid("cannot TOUCH in current state") }
        if let refusal = channel.touch(id, clientID: self.id, timeout: messageTimeout) {
            throw Self.responseFailure("TOUCH", id, refusal)
        }
    }

    private func startClose() throws(NSQBrokerError) {
        guard state == .subscribed else { throw .invalid("cannot CLS in current state") }
        readyCount = 0
        state = .closing
        send(.response, Self.closeWait)
        if inFlightCount == 0 { closeAfterFlush = true }
        flushUnlessReady()
    }

    private func requireSubscribedOrClosing(_ command: String) throws(NSQBrokerError) {
        guard state == .subscribed || state == .closing else { throw .invalid("cannot \(command) in current state") }
    }

    /// The non-fatal `E_FIN_FAILED` / `E_REQ_FAILED` / `E_TOUCH_FAILED`, quoting the id's raw bytes as nsqd does.
    private static func responseFailure(_ command: String, _ id: NSQMessageID, _ refusal: String) -> NSQBrokerError {
        var idBytes: [UInt8] = []
        withUnsafeBytes(of: id.high.bigEndian) { idBytes += $0 }
        withUnsafeBytes(of: id.low.bigEndian) { idBytes += $0 }
        return NSQBrokerError(
            code: "E_\(command)_FAILED", description: Array("\(command) ".utf8) + idBytes + Array(" failed \(refusal)".utf8),
            isFatal: false)
    }

    private static func messageID(_ bytes: [UInt8]) throws(NSQBrokerError) -> NSQMessageID {
        guard bytes.count == 16 else { throw .invalid("Invalid Message ID") }
        var high: UInt64 = 0
        var low: UInt64 = 0
        for byte in bytes[0..<8] { high = high << 8 | UInt64(byte) }
        for byte in bytes[8..<16] { low = low << 8 | UInt64(byte) }
        return NSQMessageID(high: high, low: low)
    }

    // MARK: Called by the channel

    /// Writes a message frame the way nsqd's `SendMessage` does; the message is already in the channel's
    /// in-flight set.
    func deliver(_ message: BrokerMessage) {
        inFlightCount += 1
        messageCount &+= 1
        var data = context?.channel.allocator.buffer(capacity: 26 + message.body.readableBytes)
            ?? ByteBuffer()
        data.writeInteger(message.timestamp)
        data.writeInteger(message.attempts)
        message.id.write(to: &data)
        data.writeImmutableBuffer(message.body)
        for part in output.writeFrame(type: NSQFrameType.message.rawValue, data: data) { write(part) }
        // The top of nsqd's message pump: a client no longer ready is flushed at once; otherwise what is
        // buffered waits for the next tick of the output buffer timer.
        if !isReadyForMessages {
            flushNow()
        } else if output.bufferedBytes > 0 {
            armFlushTimer()
        }
    }

    /// An in-flight message of this client timed out.
    func messageTimedOut() { settled() }

    /// The channel was emptied: nothing of ours is in flight any more.
    func emptied() {
        inFlightCount = 0
        settled()
    }

    private func settled() {
        if inFlightCount > 0 { inFlightCount -= 1 }
        if state == .closing, inFlightCount == 0 {
            closeAfterFlush = true
        }
        flushUnlessReady()
    }

    // MARK: Output

    /// Writes a response or error frame; nsqd flushes these (and anything buffered before them) at once.
    private func send(_ type: NSQFrameType, _ payload: [UInt8]) {
        guard context != nil, state != .closed else { return }
        var data = context?.channel.allocator.buffer(capacity: payload.count) ?? ByteBuffer()
        data.writeBytes(payload)
        for part in output.writeFrame(type: type.rawValue, data: data) { write(part) }
        flushNow()
    }

    /// nsqd's pump flushes a client that is no longer ready to receive (RDY reached, RDY 0, closing);
    /// a closing client whose last message settled is then closed.
    private func flushUnlessReady() {
        guard state != .closed else { return }
        if closeAfterFlush {
            closeConnection()
        } else if !isReadyForMessages {
            flushNow()
        }
    }

    /// Waits for the output buffer timer's next tick (ticks fall at `tickOrigin + k * timeout`, as nsqd's
    /// `time.Ticker` does); with no timeout (`-1`) buffered messages wait for another flush.
    private func armFlushTimer() {
        guard flushTimer == nil, settings.outputBufferTimeout > .zero, let context else { return }
        let period = settings.outputBufferTimeout.nanoseconds
        let elapsed = NIODeadline.now().uptimeNanoseconds - tickOrigin.uptimeNanoseconds
        let nextTick = tickOrigin + .nanoseconds((Int64(elapsed) / period + 1) * period)
        flushTimer = context.eventLoop.assumeIsolated().scheduleTask(deadline: nextTick) { [self] in
            flushTimer = nil
            flushNow()
        }
    }

    private func flushNow() {
        flushTimer?.cancel()
        flushTimer = nil
        if let buffered = output.flush() { write(buffered) }
    }

    /// One socket write (a syscall on nsqd, and a write and flush here).
    private func write(_ bytes: ByteBuffer) {
        context?.writeAndFlush(wrapOutboundOut(bytes), promise: nil)
    }

    // MARK: Heartbeats

    /// (Re)starts the heartbeat timer and the read deadline of two intervals, or stops both when disabled.
    private func restartHeartbeat() {
        heartbeatTask?.cancel()
        heartbeatTask = nil
        idleCheck?.cancel()
        idleCheck = nil
        guard let interval = settings.heartbeatInterval, let context else { return }
        scheduleHeartbeat(interval: interval, context: context)
        scheduleIdleCheck(interval: interval)
    }

    private func scheduleHeartbeat(interval: TimeAmount, context: ChannelHandlerContext) {
        heartbeatTask = context.eventLoop.assumeIsolated().scheduleTask(in: interval) { [self] in
            guard state != .closed else { return }
            send(.response, Self.heartbeat)
            scheduleHeartbeat(interval: interval, context: context)
        }
    }

    private func scheduleIdleCheck(interval: TimeAmount) {
        guard let context else { return }
        idleCheck = context.eventLoop.assumeIsolated().scheduleTask(deadline: lastCommandAt + interval * 2) { [self] in
            idleCheck = nil
            guard state != .closed else { return }
            if NIODeadline.now() >= lastCommandAt + interval * 2 {
                closeConnection()  // nsqd: read deadline passed, connection dropped without a frame
            } else {
                scheduleIdleCheck(interval: interval)
            }
        }
    }

    private static let ok = Array("OK".utf8)
    private static let closeWait = Array("CLOSE_WAIT".utf8)
    private static let heartbeat = Array(NSQProtocol.heartbeat.utf8)
}

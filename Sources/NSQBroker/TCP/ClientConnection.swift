import NIOCore
import NSQ

/// One TCP client of the broker, speaking protocol V2 as nsqd's `protocol_v2.go` and `client_v2.go` do.
///
/// It receives decoded ``NSQClientInbound`` values, executes them against the loop-confined
/// ``BrokerCore``, and writes frames into an output buffer that is flushed following nsqd's rules:
/// responses and errors at once; messages when the buffer is full, when the client is no longer
/// ready, when `output_buffer_size` is -1 (at the end of the delivery burst), or after
/// `output_buffer_timeout`. With `output_buffer_timeout` -1 and a buffered size, messages wait for
/// one of the other events (a heartbeat, for instance), exactly as nsqd v1.3.0 does.
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
    private var pending: ByteBuffer
    var isQueuedForFlush = false
    private var mustFlush = false
    private var closeAfterFlush = false
    private var flushTimer: Scheduled<Void>?
    private var heartbeatTask: Scheduled<Void>?
    private var idleCheck: Scheduled<Void>?
    private var lastCommandAt = NIODeadline.now()
    private var isTornDown = false

    init(core: BrokerCore) {
        self.core = core
        let configuration = core.configuration
        settings = ClientSettings(configuration: configuration)
        pending = ByteBufferAllocator().buffer(capacity: 0)
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
        pending = context.channel.allocator.buffer(capacity: 1024)
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

    func channelReadComplete(context: ChannelHandlerContext) {
        core.flushPendingClients()
        context.fireChannelReadComplete()
    }

    private func fail(_ error: NSQBrokerError) {
        appendFrame(.error, error.frameBytes)
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
        core.requestFlush(self)
        subscribedChannel?.dispatch()
    }

    private func finish(_ id: NSQMessageID) throws(NSQBrokerError) {
        try requireSubscribedOrClosing("FIN")
        guard let channel = subscribedChannel else { throw .invalid("cannot FIN in current state") }
        if let refusal = channel.finish(id, clientID: self.id) {
            throw Self.responseFailure("FIN", id, refusal)
        }
        finishCount &+= 1
        settled()
        channel.dispatch()
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
        channel.dispatch()
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

    /// Writes a message frame into the output buffer; the message is already in the channel's in-flight set.
    func deliver(_ message: BrokerMessage) {
        inFlightCount += 1
        messageCount &+= 1
        pending.writeInteger(UInt32(30 + message.body.readableBytes))
        pending.writeInteger(NSQFrameType.message.rawValue)
        pending.writeInteger(message.timestamp)
        pending.writeInteger(message.attempts)
        message.id.write(to: &pending)
        pending.writeImmutableBuffer(message.body)
        core.requestFlush(self)
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
        core.requestFlush(self)
    }

    // MARK: Output

    private func appendFrame(_ type: NSQFrameType, _ payload: [UInt8]) {
        pending.writeInteger(UInt32(4 + payload.count))
        pending.writeInteger(type.rawValue)
        pending.writeBytes(payload)
    }

    /// Writes a response or error frame; nsqd flushes these (and anything buffered before them) at once.
    private func send(_ type: NSQFrameType, _ payload: [UInt8]) {
        appendFrame(type, payload)
        mustFlush = true
        core.requestFlush(self)
    }

    /// End of a delivery burst: decide between flushing now and waiting for the buffer timeout.
    func completeBurst() {
        guard state != .closed else { return }
        if pending.readableBytes > 0 {
            if mustFlush || closeAfterFlush || settings.outputBufferSize <= 1 || !isReadyForMessages
                || pending.readableBytes >= settings.outputBufferSize {
                flushNow()
            } else if settings.outputBufferTimeout > .zero, flushTimer == nil, let context {
                flushTimer = context.eventLoop.assumeIsolated().scheduleTask(in: settings.outputBufferTimeout) { [self] in
                    flushTimer = nil
                    flushNow()
                }
            }
        }
        mustFlush = false
        if closeAfterFlush { closeConnection() }
    }

    private func flushNow() {
        flushTimer?.cancel()
        flushTimer = nil
        guard let context, pending.readableBytes > 0 else { return }
        let output = pending
        pending = context.channel.allocator.buffer(capacity: max(1024, output.readableBytes))
        context.writeAndFlush(wrapOutboundOut(output), promise: nil)
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
            appendFrame(.response, Self.heartbeat)
            flushNow()
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

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
    private var heartbeatInterval: TimeAmount?
    private var outputBufferSize: Int
    private var outputBufferTimeout: TimeAmount
    private(set) var sampleRate: Int32 = 0
    private(set) var messageTimeout: TimeAmount

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

    init(core: BrokerCore) {
        self.core = core
        let configuration = core.configuration
        heartbeatInterval = configuration.heartbeatInterval
        outputBufferSize = configuration.outputBufferSize
        outputBufferTimeout = configuration.outputBufferTimeout
        messageTimeout = configuration.msgTimeout
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
        restartHeartbeat()
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
        guard state != .closed || subscribedChannel != nil || heartbeatTask != nil else { return }
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
        let configuration = core.configuration

        switch request.heartbeatInterval {
        case -1: heartbeatInterval = nil
        case 0: break
        case 1000...Int(configuration.maxHeartbeatInterval.nanoseconds / 1_000_000):
            heartbeatInterval = .milliseconds(Int64(request.heartbeatInterval))
        default: throw .badBody("IDENTIFY heartbeat interval (\(request.heartbeatInterval)) is invalid")
        }

        var newTimeout = outputBufferTimeout
        switch request.outputBufferTimeout {
        case -1: newTimeout = .zero
        case 0: break
        case Int(configuration.minOutputBufferTimeout.nanoseconds / 1_000_000)...Int(configuration.maxOutputBufferTimeout.nanoseconds / 1_000_000):
            newTimeout = .milliseconds(Int64(request.outputBufferTimeout))
        default: throw .badBody("IDENTIFY output buffer timeout (\(request.outputBufferTimeout)) is invalid")
        }
        outputBufferTimeout = newTimeout
        switch request.outputBufferSize {
        case -1:
            outputBufferSize = 1
            outputBufferTimeout = .zero
        case 0: break
        case 64...configuration.maxOutputBufferSize: outputBufferSize = request.outputBufferSize
        default: throw .badBody("IDENTIFY output buffer size (\(request.outputBufferSize)) is invalid")
        }

        guard (0...99).contains(request.sampleRate) else {
            throw .badBody("IDENTIFY sample rate (\(request.sampleRate)) is invalid")
        }
        sampleRate = request.sampleRate

        switch request.msgTimeout {
        case 0: break
        case 1000...Int(configuration.maxMsgTimeout.nanoseconds / 1_000_000):
            messageTimeout = .milliseconds(Int64(request.msgTimeout))
        default: throw .badBody("IDENTIFY msg timeout (\(request.msgTimeout)) is invalid")
        }
        restartHeartbeat()

        guard request.featureNegotiation else {
            send(.response, Self.ok)
            return
        }
        // TLS, deflate and snappy are not offered: the reply says so and the client stays uncompressed.
        let reply = "{\"max_rdy_count\":\(configuration.maxRdyCount),\"version\":\"\(NSQProtocol.version)\","
            + "\"max_msg_timeout\":\(configuration.maxMsgTimeout.nanoseconds / 1_000_000),"
            + "\"msg_timeout\":\(messageTimeout.nanoseconds / 1_000_000),\"tls_v1\":false,\"deflate\":false,"
            + "\"deflate_level\":6,\"max_deflate_level\":6,\"snappy\":false,\"sample_rate\":\(sampleRate),"
            + "\"auth_required\":false,\"output_buffer_size\":\(outputBufferSize),"
            + "\"output_buffer_timeout\":\(outputBufferTimeout.nanoseconds / 1_000_000)}"
        send(.response, Array(reply.utf8))
    }

    private func subscribe(_ params: [[UInt8]]) throws(NSQBrokerError) {
        guard state == .initial else { throw .invalid("cannot SUB in current state") }
        guard heartbeatInterval != nil else { throw .invalid("cannot SUB with heartbeats disabled") }
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
            throw NSQBrokerError(code: "E_FIN_FAILED", "FIN \(id) failed \(refusal)", isFatal: false)
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
            throw NSQBrokerError(code: "E_REQ_FAILED", "REQ \(id) failed \(refusal)", isFatal: false)
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
            throw NSQBrokerError(code: "E_TOUCH_FAILED", "TOUCH \(id) failed \(refusal)", isFatal: false)
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
            if mustFlush || closeAfterFlush || outputBufferSize <= 1 || !isReadyForMessages
                || pending.readableBytes >= outputBufferSize {
                flushNow()
            } else if outputBufferTimeout > .zero, flushTimer == nil, let context {
                flushTimer = context.eventLoop.assumeIsolated().scheduleTask(in: outputBufferTimeout) { [self] in
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
        guard let interval = heartbeatInterval, let context else { return }
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

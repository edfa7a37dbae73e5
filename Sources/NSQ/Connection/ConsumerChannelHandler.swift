import NIOConcurrencyHelpers
import NIOCore

/// The thin channel handler of a consumer connection: it feeds events to
/// ``ConsumerConnectionStateMachine`` and performs the actions, nothing more.
///
/// Messages decoded in one read burst are collected and handed over as one ``NSQDelivery``
/// on `channelReadComplete`; writes are gathered in one buffer and flushed once per burst.
///
/// With `pauseReadingAfterDelivery`, the handler holds the channel's next `read` after each delivery until
/// `resumeReading()` (the way NIO's `BackPressureHandler` holds reads): the application reads when it is ready.
///
final class ConsumerChannelHandler: ChannelDuplexHandler {
    typealias InboundIn = NSQFrame
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// How the handler reports to its consumer; every closure is called on the channel's event loop.
    struct Callbacks: Sendable {
        var deliver: @Sendable (NSQDelivery) -> Void
        var giveUp: @Sendable (NSQMessage) -> Void
        var nonFatalError: @Sendable (NSQServerError) -> Void
    }

    private var stateMachine: ConsumerConnectionStateMachine
    private let callbacks: Callbacks
    private let status: NIOLockedValueBox<NSQConnectionStatus>
    private let closeTimeout: TimeAmount
    /// Succeeded once SUB is answered with OK; failed if the connection ends before.
    let subscribed: EventLoopPromise<NSQIdentifyResponse>
    private var identifyResponse: NSQIdentifyResponse?

    private var context: ChannelHandlerContext?
    private var handle: NSQConnectionHandle?
    private var batch: [NSQMessage] = []
    private var outbound: ByteBuffer
    private var inReadBurst = false
    private let pauseReadingAfterDelivery: Bool
    private let touchesHeldMessages: Bool
    /// Ids delivered since the last keep-alive tick, and those to TOUCH at the next one if still in flight.
    private var heldRecently: [[NSQMessageID]] = []
    private var heldLonger: [[NSQMessageID]] = []
    private var keepAliveTimer: Scheduled<Void>?
    /// Reading is held: a delivery was handed over and the application has not asked for more yet.
    private var readingPaused = false
    /// The channel asked to read while reading was held.
    private var readHeld = false
    /// Set by `gracefulClose()`: from then on reading is never held.
    private var closeRequested = false
    private var closeError: (any Error)?
    // Counters kept on the loop and published to `status` once per burst.
    private var receivedDelta = 0
    private var finishedDelta = 0
    private var requeuedDelta = 0
    private var gaveUpDelta = 0
    private let metrics: NSQConsumerMetrics?

    init(
        stateMachine: ConsumerConnectionStateMachine, callbacks: Callbacks,
        status: NIOLockedValueBox<NSQConnectionStatus>, closeTimeout: TimeAmount,
        subscribed: EventLoopPromise<NSQIdentifyResponse>, pauseReadingAfterDelivery: Bool = false,
        touchesHeldMessages: Bool = false, metrics: NSQConsumerMetrics? = nil
    ) {
        self.metrics = metrics
        self.pauseReadingAfterDelivery = pauseReadingAfterDelivery
        self.touchesHeldMessages = touchesHeldMessages
        self.stateMachine = stateMachine
        self.callbacks = callbacks
        self.status = status
        self.closeTimeout = closeTimeout
        self.subscribed = subscribed
        self.outbound = ByteBuffer()
    }

    /// Set once by the channel initializer; the handle is what deliveries carry.
    func attach(handle: NSQConnectionHandle) { self.handle = handle }

    // MARK: channel events

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        outbound = context.channel.allocator.buffer(capacity: 4096)
        if context.channel.isActive { perform(stateMachine.connected()); flush() }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        cancelTimers()
        self.context = nil
    }

    private func cancelTimers() {
        keepAliveTimer?.cancel()
        keepAliveTimer = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        perform(stateMachine.connected())
        flush()
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        inReadBurst = true
        perform(stateMachine.frameReceived(unwrapInboundIn(data)))
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        inReadBurst = false
        // Counters first, so whoever sees a delivery or the server's reaction also sees them in status().
        publishCounters()
        emitBatch()
        flush()
        context.fireChannelReadComplete()
    }

    func read(context: ChannelHandlerContext) {
        if readingPaused {
            readHeld = true
        } else {
            context.read()
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let idle = event as? IdleStateHandler.IdleStateEvent, idle == .read {
            if closeError == nil { closeError = NSQClientError.idleTimeout }
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if closeError == nil { closeError = error }
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        cancelTimers()
        emitBatch()
        perform(stateMachine.channelInactive(error: closeError))
        context.fireChannelInactive()
    }

    // MARK: requests from the application (always on the event loop)

    func finish(_ ids: some Sequence<NSQMessageID>) {
        for id in ids {
            let action = stateMachine.finish(id)
            if action != .none { finishedDelta += 1 }
            perform(action)
        }
        afterSettling()
    }

    func requeue(_ id: NSQMessageID, delay: Duration) {
        let action = stateMachine.requeue(id, delay: delay)
        if action != .none { requeuedDelta += 1 }
        perform(action)
        afterSettling()
    }

    func touch(_ id: NSQMessageID) {
        perform(stateMachine.touch(id))
        flushUnlessReading()
    }

    func setReady(_ count: Int) {
        perform(stateMachine.setReady(count))
        let sent = stateMachine.sentReady
        status.withLockedValue { $0.ready = sent }
        flushUnlessReading()
    }

    /// Lets the channel read again after a delivery (see `pauseReadingAfterDelivery`).
    func resumeReading() {
        readingPaused = false
        guard readHeld, let context else { return }
        readHeld = false
        context.read()
    }

    /// CLS, then close once in-flight messages settled or `closeTimeout` passed.
    func gracefulClose() {
        closeRequested = true
        resumeReading()  // nsqd's answer to CLS and the last messages must be read
        perform(stateMachine.close())
        flushUnlessReading()
        guard let context else { return }
        if stateMachine.state != .closed {
            context.eventLoop.assumeIsolated().scheduleTask(in: closeTimeout) { [weak self] in
                guard let self else { return }
                self.perform(self.stateMachine.closeTimedOut())
            }
        }
        status.withLockedValue { if $0.state != .closed { $0.state = .closing } }
    }

    // MARK: performing actions

    private func perform(_ action: ConsumerConnectionStateMachine.Action) {
        switch action {
        case .none:
            break
        case .write(let command):
            command.encode(into: &outbound)
        case .answerHeartbeat:
            NSQCommand.nop.encode(into: &outbound)
            status.withLockedValue { $0.heartbeats += 1 }
        case .sendMagicAndIdentify(let body):
            NSQCommand.magic.encode(into: &outbound)
            NSQCommand.identify(body).encode(into: &outbound)
            status.withLockedValue { $0.state = .identifying }
        case .subscribe(let topic, let channel, let response):
            identifyResponse = response
            NSQCommand.subscribe(topic: topic, channel: channel).encode(into: &outbound)
            status.withLockedValue { $0.state = .subscribing }
        case .subscribed(let ready):
            if let ready { NSQCommand.ready(ready).encode(into: &outbound) }
            let sent = stateMachine.sentReady
            status.withLockedValue { $0.state = .subscribed; $0.ready = sent }
            subscribed.succeed(identifyResponse ?? NSQIdentifyResponse(maxRdyCount: stateMachine.maxReadyCount))
            if touchesHeldMessages { scheduleKeepAlive() }
        case .deliver(let message):
            receivedDelta += 1
            batch.append(message)
        case .giveUp(let message):
            receivedDelta += 1
            gaveUpDelta += 1
            callbacks.giveUp(message)
            _ = stateMachine.finish(message.id)
            NSQCommand.finish(message.id).encode(into: &outbound)
        case .reportNonFatal(let error):
            callbacks.nonFatalError(error)
        case .closeChannel(let error):
            if let error, closeError == nil { closeError = error }
            flush()
            context?.close(promise: nil)
        case .reportClosed(_, let error):
            publishCounters()
            status.withLockedValue {
                $0.state = .closed
                $0.inFlight = 0
                $0.ready = 0
                if let error { $0.lastError = "\(error)" }
            }
            subscribed.fail(error ?? NSQClientError.connectionClosed)
            handle = nil
        }
    }

    private func afterSettling() {
        if stateMachine.shouldCloseAfterSettling {
            perform(.closeChannel(error: nil))
            return
        }
        if !inReadBurst { publishCounters() }
        flushUnlessReading()
    }

    private func emitBatch() {
        guard !batch.isEmpty, let handle else { return }
        let messages = batch
        batch.removeAll(keepingCapacity: true)
        if pauseReadingAfterDelivery, !closeRequested { readingPaused = true }
        if touchesHeldMessages { heldRecently.append(messages.map(\.id)) }
        let filledWindow = stateMachine.inFlight.count >= stateMachine.sentReady
        callbacks.deliver(NSQDelivery(messages: messages, connection: handle, filledWindow: filledWindow))
    }

    // MARK: keeping held messages alive

    /// Every quarter of the negotiated message timeout, TOUCHes what was delivered before the previous tick and
    /// is still in flight: no message goes longer than half the timeout without a TOUCH.
    private func scheduleKeepAlive() {
        guard let context else { return }
        let timeoutMilliseconds = Int64(identifyResponse?.msgTimeout ?? 60_000)
        let period = TimeAmount.milliseconds(max(250, timeoutMilliseconds / 4))
        keepAliveTimer = context.eventLoop.assumeIsolated().scheduleTask(in: period) { [weak self] in
            guard let self else { return }
            self.keepAliveTimer = nil
            self.touchHeldMessages()
            self.scheduleKeepAlive()
        }
    }

    private func touchHeldMessages() {
        var stillHeld: [NSQMessageID] = []
        for ids in heldLonger {
            for id in ids where stateMachine.inFlight.contains(id) {
                perform(stateMachine.touch(id))
                stillHeld.append(id)
            }
        }
        heldLonger = heldRecently
        if !stillHeld.isEmpty {
            heldLonger.append(stillHeld)
            status.withLockedValue { $0.touched += stillHeld.count }
            metrics?.touched.increment(by: stillHeld.count)
        }
        heldRecently = []
        flushUnlessReading()
    }

    private func flushUnlessReading() {
        if !inReadBurst { flush() }
    }

    private func flush() {
        guard outbound.readableBytes > 0, let context else { return }
        let bytes = outbound
        outbound = context.channel.allocator.buffer(capacity: 4096)
        context.writeAndFlush(wrapOutboundOut(bytes), promise: nil)
    }

    private func publishCounters() {
        let inFlight = stateMachine.inFlight.count
        let (received, finished, requeued, gaveUp) = (receivedDelta, finishedDelta, requeuedDelta, gaveUpDelta)
        receivedDelta = 0; finishedDelta = 0; requeuedDelta = 0; gaveUpDelta = 0
        status.withLockedValue {
            $0.received += received
            $0.finished += finished
            $0.requeued += requeued
            $0.gaveUp += gaveUp
            $0.inFlight = inFlight
        }
        if let metrics {
            if received > 0 { metrics.received.increment(by: received) }
            if finished > 0 { metrics.finished.increment(by: finished) }
            if requeued > 0 { metrics.requeued.increment(by: requeued) }
            if gaveUp > 0 { metrics.gaveUp.increment(by: gaveUp) }
        }
    }
}

/// A Sendable reference to one live consumer connection; FIN/REQ/TOUCH go through it.
///
/// Calls from outside the connection's event loop hop onto it; calls made after the connection
/// closed do nothing (nsqd has already requeued those messages).
public final class NSQConnectionHandle: Sendable {
    /// `host:port` of the nsqd.
    public let address: String
    /// What the connection is for (live, or catching up).
    public let role: NSQConnectionRole
    let channel: any Channel
    private let handler: NIOLoopBound<ConsumerChannelHandler>
    private let requestedReady = NIOLockedValueBox(0)

    /// REQ delay policy for ``NSQDelivery/requeue(_:)``: `requeueDelay * attempts`, capped.
    let requeueDelay: Duration
    let maxRequeueDelay: Duration

    init(address: String, role: NSQConnectionRole = .live, channel: any Channel, handler: ConsumerChannelHandler,
         requeueDelay: Duration = .seconds(1), maxRequeueDelay: Duration = .seconds(900)) {
        self.address = address
        self.role = role
        self.channel = channel
        self.handler = NIOLoopBound(handler, eventLoop: channel.eventLoop)
        self.requeueDelay = requeueDelay
        self.maxRequeueDelay = maxRequeueDelay
    }

    private func onLoop(_ body: @escaping @Sendable (ConsumerChannelHandler) -> Void) {
        let eventLoop = channel.eventLoop
        if eventLoop.inEventLoop {
            body(handler.value)
        } else {
            let handler = self.handler
            eventLoop.execute { body(handler.value) }
        }
    }

    public func finish(_ ids: [NSQMessageID]) { onLoop { $0.finish(ids) } }
    public func requeue(_ id: NSQMessageID, delay: Duration) { onLoop { $0.requeue(id, delay: delay) } }
    public func touch(_ id: NSQMessageID) { onLoop { $0.touch(id) } }
    /// Reads again after a delivery, when the consumer pauses reading after each (see
    /// ``NSQConsumerConfiguration/pauseReadingAfterDelivery``); otherwise does nothing.
    public func resumeReading() { onLoop { $0.resumeReading() } }
    func setReady(_ count: Int) {
        requestedReady.withLockedValue { $0 = count }
        onLoop { $0.setReady(count) }
    }
    /// The RDY last asked for through this handle (sent once the connection can take it).
    var sentReady: Int { requestedReady.withLockedValue { $0 } }
    func gracefulClose() { onLoop { $0.gracefulClose() } }
}

/// Messages read together off one connection, and the means to settle them.
public struct NSQDelivery: Sendable {
    /// In the order nsqd sent them.
    public let messages: [NSQMessage]
    /// The connection they came from; FIN/REQ/TOUCH must go back on it.
    public let connection: NSQConnectionHandle
    /// True when the connection's whole RDY window was in flight as this was handed over: nsqd could send no
    /// more until some are finished. In a backlog that is the normal case; in live traffic it is rare.
    public let filledWindow: Bool

    public init(messages: [NSQMessage], connection: NSQConnectionHandle, filledWindow: Bool = false) {
        self.messages = messages
        self.connection = connection
        self.filledWindow = filledWindow
    }

    /// FIN one message.
    public func finish(_ id: NSQMessageID) { connection.finish([id]) }
    /// FIN several messages with one write.
    public func finish(_ ids: [NSQMessageID]) { connection.finish(ids) }
    /// FIN every message of this delivery with one write.
    public func finishAll() { connection.finish(messages.map(\.id)) }
    /// REQ: nsqd redelivers it after `delay` with attempts + 1.
    public func requeue(_ id: NSQMessageID, delay: Duration = .zero) { connection.requeue(id, delay: delay) }
    /// REQ with the consumer's growing delay (`requeueDelay * attempts`, capped at `maxRequeueDelay`).
    public func requeue(_ message: NSQMessage) {
        let delay = min(connection.requeueDelay * Int(max(1, message.attempts)), connection.maxRequeueDelay)
        connection.requeue(message.id, delay: delay)
    }
    /// TOUCH: restart the message's timeout on nsqd.
    public func touch(_ id: NSQMessageID) { connection.touch(id) }
}

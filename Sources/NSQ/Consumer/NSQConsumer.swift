import NIOConcurrencyHelpers
import Logging
import NIOCore
import NIOPosix

/// Consumes one topic/channel from one or more nsqd, found directly and/or through nsqlookupd.
///
/// ```swift
/// let consumer = NSQConsumer(configuration: config)
/// async let running: Void = consumer.run()
/// for await delivery in consumer.deliveries {
///     handle(delivery.messages)
///     delivery.finishAll()
/// }
/// ```
/// `run()` keeps one connection per nsqd, reconnecting with exponential backoff, until `stop()`
/// or cancellation; then it sends CLS, waits (bounded) for in-flight messages to settle, closes,
/// and finishes `deliveries`.
public final class NSQConsumer: Sendable {
    public let configuration: NSQConsumerConfiguration
    /// Batches of messages, each read together off one connection.
    public let deliveries: AsyncStream<NSQDelivery>

    private let eventLoopGroup: any EventLoopGroup
    private let continuation: AsyncStream<NSQDelivery>.Continuation
    private let onGiveUp: @Sendable (NSQMessage) -> Void
    private let onDelivery: (@Sendable (NSQDelivery) -> Void)?
    private let logger: Logger
    private let metrics: NSQConsumerMetrics?
    private let shared = NIOLockedValueBox(Shared())
    private let readyLock = NIOLock()
    private let events: AsyncStream<Event>
    private let eventsContinuation: AsyncStream<Event>.Continuation

    private enum Event: Sendable {
        case discovered(Set<String>)
        case stop
    }

    /// One connection to an nsqd (the live one, or the catch-up one).
    private struct Slot {
        let status: NIOLockedValueBox<NSQConnectionStatus>
        var handle: NSQConnectionHandle?
        var maxReadyCount = 0
        var everConnected = false
        /// A failure of this connection was reported through the logger (reported once, not per retry).
        var warned = false
    }

    /// One nsqd: its connections, and which of them holds its share of RDY.
    private struct Entry {
        var slots: [NSQConnectionRole: Slot]
        var controller: CatchUpController?
        var discovered: Bool
    }

    private struct Shared {
        var entries: [String: Entry] = [:]
        var discovered: Set<String> = []
        var running = false
        var stopping = false
        var finished = false
        var stopWaiters: [CheckedContinuation<Void, Never>] = []
    }

    /// - Parameters:
    ///   - onGiveUp: called on the connection's event loop with each message whose attempts
    ///     exceed `maxAttempts`; the message is then FIN'd and never appears in `deliveries`.
    ///   - onDelivery: when given, every delivery is handed to it on its connection's event loop, in the
    ///     order read, instead of going through `deliveries` (which then just finishes when `run()` returns).
    ///     It saves a task hop per read burst; it must not block.
    ///   - logger: told (a warning, once per connection) when a connection keeps failing in a way a person
    ///     should know about (nsqd refusing the catch-up connection's buffer settings, say); reading goes on
    ///     meanwhile. Logs nowhere by default.
    ///   - metrics: where message counts are also reported; nil reports nothing.
    public init(
        configuration: NSQConsumerConfiguration,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        onGiveUp: @escaping @Sendable (NSQMessage) -> Void = { _ in },
        onDelivery: (@Sendable (NSQDelivery) -> Void)? = nil,
        logger: Logger = Logger(label: "nsq.consumer", factory: { _ in SwiftLogNoOpLogHandler() }),
        metrics: NSQConsumerMetrics? = nil
    ) {
        self.metrics = metrics
        self.configuration = configuration
        self.eventLoopGroup = eventLoopGroup
        self.onGiveUp = onGiveUp
        self.onDelivery = onDelivery
        self.logger = logger
        (deliveries, continuation) = AsyncStream.makeStream(of: NSQDelivery.self)
        (events, eventsContinuation) = AsyncStream.makeStream(of: Event.self)
    }

    /// Waits until the live connection to every directly configured nsqd (`nsqdTCPAddresses`) is subscribed,
    /// or until `timeout` passes; returns whether they all are. Lets a caller that publishes right after
    /// starting the consumer know that nsqd will push those messages to it. Checks every 2 ms.
    public func waitUntilSubscribed(timeout: Duration) async -> Bool {
        let wanted = Set(configuration.nsqdTCPAddresses.filter { NSQAddress($0) != nil })
        let deadline = ContinuousClock.now + timeout
        while true {
            let subscribed = Set(status().connections.lazy.filter { $0.state == .subscribed && $0.role == .live }.map(\.address))
            if wanted.isSubset(of: subscribed) { return true }
            if ContinuousClock.now >= deadline || Task.isCancelled { return false }
            try? await Task.sleep(for: .milliseconds(2))
        }
    }

    /// Per-connection figures and totals.
    public func status() -> NSQConsumerStatus {
        let boxes = shared.withLockedValue { shared in
            shared.entries.sorted { $0.key < $1.key }.flatMap { entry in
                configuration.roles.compactMap { entry.value.slots[$0]?.status }
            }
        }
        return NSQConsumerStatus(connections: boxes.map { $0.withLockedValue { $0 } })
    }

    /// Connects and consumes until ``stop()`` or cancellation. Throws only for an invalid configuration
    /// or when called twice; lost connections are retried, never thrown.
    public func run() async throws {
        try configuration.validate()
        let alreadyRunning = shared.withLockedValue { shared in
            defer { shared.running = true }
            return shared.running || shared.finished
        }
        guard !alreadyRunning else { throw NSQClientError.invalidConfiguration("run() called twice") }

        await withTaskCancellationHandler {
            await withTaskGroup(of: Void.self) { group in
                for address in Set(configuration.nsqdTCPAddresses) {
                    if let task = addEntry(address, discovered: false) { group.addTask(operation: task) }
                }
                if !configuration.lookupdHTTPAddresses.isEmpty {
                    group.addTask { await self.pollLookupd() }
                }
                for await event in events {
                    switch event {
                    case .discovered(let addresses):
                        shared.withLockedValue { $0.discovered = addresses }
                        for address in addresses.sorted() {
                            if let task = addEntry(address, discovered: true) { group.addTask(operation: task) }
                        }
                    case .stop:
                        group.cancelAll()
                    }
                    if case .stop = event { break }
                }
                await group.waitForAll()
            }
        } onCancel: {
            self.beginStop()
        }

        continuation.finish()
        let waiters = shared.withLockedValue { shared in
            shared.finished = true
            defer { shared.stopWaiters = [] }
            return shared.stopWaiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Graceful stop: CLS on every connection, wait (up to `drainTimeout`) for in-flight messages
    /// to be finished or requeued, close, and let `run()` return. Keep consuming `deliveries` meanwhile.
    public func stop() async {
        let mustWait = shared.withLockedValue { shared -> Bool in
            // Stopped before it ran: a later run() must not start.
            if !shared.running { shared.finished = true }
            return shared.running && !shared.finished
        }
        beginStop()
        guard mustWait else {
            continuation.finish()
            return
        }
        await withCheckedContinuation { (waiter: CheckedContinuation<Void, Never>) in
            let done = shared.withLockedValue { shared -> Bool in
                if shared.finished { return true }
                shared.stopWaiters.append(waiter)
                return false
            }
            if done { waiter.resume() }
        }
    }

    private func beginStop() {
        let handles = shared.withLockedValue { shared -> [NSQConnectionHandle] in
            guard !shared.stopping else { return [] }
            shared.stopping = true
            return shared.entries.values.flatMap { $0.slots.values.compactMap(\.handle) }
        }
        for handle in handles { handle.gracefulClose() }
        eventsContinuation.yield(.stop)
    }

    // MARK: connections

    /// Registers an address; returns the task supervising its connections unless it is already known or we
    /// are stopping.
    private func addEntry(_ address: String, discovered: Bool) -> (@Sendable () async -> Void)? {
        guard let parsed = NSQAddress(address) else { return nil }
        let roles = configuration.roles
        let added = shared.withLockedValue { shared -> Bool in
            guard !shared.stopping, shared.entries[address] == nil else { return false }
            var slots: [NSQConnectionRole: Slot] = [:]
            for role in roles {
                slots[role] = Slot(status: NIOLockedValueBox(NSQConnectionStatus(address: address, role: role)))
            }
            shared.entries[address] = Entry(
                slots: slots, controller: configuration.catchUp.map(CatchUpController.init), discovered: discovered)
            return true
        }
        guard added else { return nil }
        return {
            await withTaskGroup(of: Void.self) { group in
                for role in roles {
                    group.addTask { await self.supervise(address: address, role: role, parsed: parsed) }
                }
            }
            let removed = self.shared.withLockedValue { shared -> Bool in
                guard !shared.stopping else { return false }
                shared.entries[address] = nil
                return true
            }
            if !removed {
                for status in self.statusBoxes(of: address) { status.withLockedValue { $0.state = .stopped } }
            }
        }
    }

    private func statusBoxes(of address: String) -> [NIOLockedValueBox<NSQConnectionStatus>] {
        shared.withLockedValue { $0.entries[address]?.slots.values.map(\.status) ?? [] }
    }

    /// Keeps one connection (`role`) to `address` alive until stop, reconnecting with backoff.
    private func supervise(address: String, role: NSQConnectionRole, parsed: NSQAddress) async {
        guard let status = shared.withLockedValue({ $0.entries[address]?.slots[role]?.status }) else { return }
        let backoff = Backoff(initial: configuration.reconnectInitialDelay, maximum: configuration.reconnectMaxDelay)
        let deliver = onDelivery ?? { [continuation] delivery in continuation.yield(delivery) }
        let observes = configuration.catchUp != nil
        let callbacks = ConsumerChannelHandler.Callbacks(
            deliver: { [weak self] delivery in
                if observes { self?.observe(delivery, from: address) }
                deliver(delivery)
            },
            giveUp: onGiveUp,
            nonFatalError: { _ in })
        var failures = 0
        while !isStopping {
            do {
                let connected = try await ConsumerConnection.connect(
                    to: parsed, role: role, configuration: configuration, eventLoopGroup: eventLoopGroup,
                    status: status, callbacks: callbacks, metrics: metrics)
                failures = 0
                let stopNow = shared.withLockedValue { shared -> Bool in
                    if shared.entries[address]?.slots[role]?.everConnected == true {
                        status.withLockedValue { $0.reconnects += 1 }
                    }
                    shared.entries[address]?.slots[role]?.everConnected = true
                    shared.entries[address]?.slots[role]?.handle = connected.handle
                    shared.entries[address]?.slots[role]?.maxReadyCount = connected.identify.maxRdyCount
                    if role == .catchUp { _ = shared.entries[address]?.controller?.catchUpConnected() }
                    return shared.stopping
                }
                if stopNow { connected.handle.gracefulClose() } else { redistributeReady() }
                try? await connected.handle.channel.closeFuture.get()
                shared.withLockedValue { shared in
                    shared.entries[address]?.slots[role]?.handle = nil
                    if role == .catchUp { _ = shared.entries[address]?.controller?.catchUpLost() }
                }
                redistributeReady()
            } catch {
                status.withLockedValue { $0.lastError = "\(error)"; $0.state = .closed }
                if role == .catchUp {
                    warnOnce(address: address, role: role, error: error)
                    let decision = shared.withLockedValue { $0.entries[address]?.controller?.catchUpLost() ?? .none }
                    if decision != .none { redistributeReady() }
                }
            }
            failures += 1
            if isStopping || !stillWanted(address) { break }
            status.withLockedValue { $0.state = .backingOff }
            do {
                try await Task.sleep(for: backoff.delay(afterFailures: failures))
            } catch {
                break
            }
        }
    }

    /// Tells the application once that an nsqd refuses the catch-up connection: the live one carries on alone.
    private func warnOnce(address: String, role: NSQConnectionRole, error: any Error) {
        let first = shared.withLockedValue { shared -> Bool in
            guard shared.entries[address]?.slots[role]?.warned == false else { return false }
            shared.entries[address]?.slots[role]?.warned = true
            return true
        }
        guard first else { return }
        var text = "nsqd \(address) refused the catch-up connection (\(error)); reading on with the live connection only"
        if let server = error as? NSQServerError, server.code == "E_BAD_BODY", server.message.contains("output buffer") {
            let buffering = configuration.catchUp?.outputBuffering
            let asked = [
                buffering?.size.map { "size \($0)" }, buffering?.timeout.map { "timeout \($0.milliseconds) ms" },
            ].compactMap { $0 }.joined(separator: ", ")
            text = "nsqd \(address) refused the catch-up connection's output buffer (\(asked)): \(server.message); "
                + "it accepts timeouts from its --min-output-buffer-timeout (25 ms by default) to "
                + "--max-output-buffer-timeout and sizes from 64 bytes to --max-output-buffer-size; "
                + "reading on with the live connection only, so draining a backlog will be slow"
        }
        logger.warning("\(text)", metadata: ["nsqd": "\(address)", "connection": "\(role)"])
    }

    /// Lets the catch-up controller of `address` judge a delivery's lag, and moves RDY when it decides to.
    private func observe(_ delivery: NSQDelivery, from address: String) {
        guard let first = delivery.messages.first else { return }
        var oldest = first.timestamp
        var youngest = first.timestamp
        for message in delivery.messages {
            oldest = min(oldest, message.timestamp)
            youngest = max(youngest, message.timestamp)
        }
        let now = NSQWallClock.nanoseconds()
        let role = delivery.connection.role
        let decision = shared.withLockedValue { shared -> CatchUpController.Decision in
            let catchUpAvailable = shared.entries[address]?.slots[.catchUp]?.handle != nil
            return shared.entries[address]?.controller?.delivered(
                by: role, oldestLag: .nanoseconds(now - oldest), youngestLag: .nanoseconds(now - youngest),
                filledWindow: delivery.filledWindow, catchUpAvailable: catchUpAvailable) ?? .none
        }
        act(on: decision, address: address, eventLoop: delivery.connection.channel.eventLoop)
    }

    private func act(on decision: CatchUpController.Decision, address: String, eventLoop: any EventLoop) {
        switch decision {
        case .none:
            break
        case .switchTo:
            redistributeReady()
        case .checkIdle(let delivery):
            guard let idleAfter = configuration.catchUp?.idleAfter else { return }
            eventLoop.scheduleTask(in: idleAfter.timeAmount) { [weak self] in
                guard let self else { return }
                let decision = self.shared.withLockedValue { shared -> CatchUpController.Decision in
                    shared.entries[address]?.controller?.idle(sinceDelivery: delivery) ?? .none
                }
                self.act(on: decision, address: address, eventLoop: eventLoop)
            }
        }
    }

    private var isStopping: Bool { shared.withLockedValue { $0.stopping } }

    /// Direct addresses are always wanted; discovered ones while lookupd still lists them.
    private func stillWanted(_ address: String) -> Bool {
        shared.withLockedValue { shared in
            guard let entry = shared.entries[address] else { return false }
            return !entry.discovered || shared.discovered.contains(address)
        }
    }

    /// Spreads maxInFlight over the nsqd with a subscribed connection, and gives each nsqd's share to the
    /// connection its catch-up controller chose (the other gets 0); decreases are sent before increases.
    private func redistributeReady() {
        // Serialised: two connections coming up at once must not send their plans interleaved (a stale plan's
        // RDY sent last would hand out more than maxInFlight).
        readyLock.withLock { redistributeReadyLocked() }
    }

    private func redistributeReadyLocked() {
        let plan = shared.withLockedValue { shared -> [(limit: Int, handles: [(NSQConnectionHandle, holds: Bool)])] in
            guard !shared.stopping else { return [] }
            return shared.entries.sorted { $0.key < $1.key }.compactMap { entry in
                let connected = entry.value.slots.compactMap { role, slot in slot.handle.map { (role, $0, slot.maxReadyCount) } }
                guard !connected.isEmpty else { return nil }
                // The chosen connection, or whichever is up when it is not.
                let chosen = entry.value.controller?.active ?? .live
                let holder = connected.first { $0.0 == chosen } ?? connected.first { $0.0 == .live } ?? connected[0]
                // While probing for a backlog at start, the live connection asks for one message only.
                let limit = entry.value.controller?.probing == true ? min(1, holder.2) : holder.2
                return (limit, connected.map { ($0.1, $0.1 === holder.1) })
            }
        }
        let counts = ReadyDistribution.distribute(maxInFlight: configuration.maxInFlight, maxReadyCounts: plan.map(\.limit))
        var increases: [(NSQConnectionHandle, Int)] = []
        for (entry, count) in zip(plan, counts) {
            for (handle, holds) in entry.handles {
                let wanted = holds ? count : 0
                let current = handle.sentReady
                if wanted < current { handle.setReady(wanted) } else if wanted > current { increases.append((handle, wanted)) }
            }
        }
        for (handle, count) in increases { handle.setReady(count) }
    }

    // MARK: lookupd

    private func pollLookupd() async {
        let client = LookupdClient(eventLoopGroup: eventLoopGroup, timeout: configuration.connectTimeout)
        let lookupds = configuration.lookupdHTTPAddresses.compactMap(NSQAddress.init)
        while !Task.isCancelled {
            var found = Set<String>()
            var anyAnswered = false
            for lookupd in lookupds {
                if let addresses = try? await client.lookup(topic: configuration.topic, lookupd: lookupd) {
                    anyAnswered = true
                    found.formUnion(addresses)
                }
            }
            // When no lookupd answers, keep what we had rather than dropping every connection.
            if anyAnswered { eventsContinuation.yield(.discovered(found)) }
            let jitter = Double.random(in: 0...max(0, configuration.lookupdPollJitter))
            let interval = configuration.lookupdPollInterval + configuration.lookupdPollInterval * jitter
            do { try await Task.sleep(for: interval) } catch { return }
        }
    }
}

import NIOConcurrencyHelpers
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
    private let shared = NIOLockedValueBox(Shared())
    private let events: AsyncStream<Event>
    private let eventsContinuation: AsyncStream<Event>.Continuation

    private enum Event: Sendable {
        case discovered(Set<String>)
        case stop
    }

    private struct Entry {
        let status: NIOLockedValueBox<NSQConnectionStatus>
        var handle: NSQConnectionHandle?
        var maxReadyCount = 0
        var discovered: Bool
        var everConnected = false
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
    public init(
        configuration: NSQConsumerConfiguration,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        onGiveUp: @escaping @Sendable (NSQMessage) -> Void = { _ in },
        onDelivery: (@Sendable (NSQDelivery) -> Void)? = nil
    ) {
        self.configuration = configuration
        self.eventLoopGroup = eventLoopGroup
        self.onGiveUp = onGiveUp
        self.onDelivery = onDelivery
        (deliveries, continuation) = AsyncStream.makeStream(of: NSQDelivery.self)
        (events, eventsContinuation) = AsyncStream.makeStream(of: Event.self)
    }

    /// Waits until a connection to every directly configured nsqd (`nsqdTCPAddresses`) is subscribed, or
    /// until `timeout` passes; returns whether they all are. Lets a caller that publishes right after
    /// starting the consumer know that nsqd will push those messages to it. Checks every 2 ms.
    public func waitUntilSubscribed(timeout: Duration) async -> Bool {
        let wanted = Set(configuration.nsqdTCPAddresses.filter { NSQAddress($0) != nil })
        let deadline = ContinuousClock.now + timeout
        while true {
            let subscribed = Set(status().connections.lazy.filter { $0.state == .subscribed }.map(\.address))
            if wanted.isSubset(of: subscribed) { return true }
            if ContinuousClock.now >= deadline || Task.isCancelled { return false }
            try? await Task.sleep(for: .milliseconds(2))
        }
    }

    /// Per-connection figures and totals.
    public func status() -> NSQConsumerStatus {
        let boxes = shared.withLockedValue { $0.entries.sorted { $0.key < $1.key }.map(\.value.status) }
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
            return shared.entries.values.compactMap(\.handle)
        }
        for handle in handles { handle.gracefulClose() }
        eventsContinuation.yield(.stop)
    }

    // MARK: connections

    /// Registers an address; returns its supervising task unless it is already known or we are stopping.
    private func addEntry(_ address: String, discovered: Bool) -> (@Sendable () async -> Void)? {
        guard let parsed = NSQAddress(address) else { return nil }
        let added = shared.withLockedValue { shared -> Bool in
            guard !shared.stopping, shared.entries[address] == nil else { return false }
            shared.entries[address] = Entry(
                status: NIOLockedValueBox(NSQConnectionStatus(address: address)), discovered: discovered)
            return true
        }
        guard added else { return nil }
        return { await self.supervise(address: address, parsed: parsed) }
    }

    /// Keeps one connection to `address` alive until stop, reconnecting with backoff.
    private func supervise(address: String, parsed: NSQAddress) async {
        guard let status = shared.withLockedValue({ $0.entries[address]?.status }) else { return }
        let backoff = Backoff(initial: configuration.reconnectInitialDelay, maximum: configuration.reconnectMaxDelay)
        let callbacks = ConsumerChannelHandler.Callbacks(
            deliver: onDelivery ?? { [continuation] delivery in continuation.yield(delivery) },
            giveUp: onGiveUp,
            nonFatalError: { _ in })
        var failures = 0
        while !isStopping {
            do {
                let connected = try await ConsumerConnection.connect(
                    to: parsed, configuration: configuration, eventLoopGroup: eventLoopGroup,
                    status: status, callbacks: callbacks)
                failures = 0
                let stopNow = shared.withLockedValue { shared -> Bool in
                    if shared.entries[address]?.everConnected == true {
                        status.withLockedValue { $0.reconnects += 1 }
                    }
                    shared.entries[address]?.everConnected = true
                    shared.entries[address]?.handle = connected.handle
                    shared.entries[address]?.maxReadyCount = connected.identify.maxRdyCount
                    return shared.stopping
                }
                if stopNow { connected.handle.gracefulClose() } else { redistributeReady() }
                try? await connected.handle.channel.closeFuture.get()
                shared.withLockedValue { $0.entries[address]?.handle = nil }
                redistributeReady()
            } catch {
                status.withLockedValue { $0.lastError = "\(error)"; $0.state = .closed }
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
        let removed = shared.withLockedValue { shared -> Bool in
            guard !shared.stopping else { return false }
            shared.entries[address] = nil
            return true
        }
        if !removed { status.withLockedValue { $0.state = .stopped } }
    }

    private var isStopping: Bool { shared.withLockedValue { $0.stopping } }

    /// Direct addresses are always wanted; discovered ones while lookupd still lists them.
    private func stillWanted(_ address: String) -> Bool {
        shared.withLockedValue { shared in
            guard let entry = shared.entries[address] else { return false }
            return !entry.discovered || shared.discovered.contains(address)
        }
    }

    /// Spreads maxInFlight over the subscribed connections; decreases are sent before increases.
    private func redistributeReady() {
        let live = shared.withLockedValue { shared -> [(NSQConnectionHandle, Int)] in
            guard !shared.stopping else { return [] }
            return shared.entries.sorted { $0.key < $1.key }.compactMap { entry in
                entry.value.handle.map { ($0, entry.value.maxReadyCount) }
            }
        }
        let counts = ReadyDistribution.distribute(maxInFlight: configuration.maxInFlight, maxReadyCounts: live.map(\.1))
        var increases: [(NSQConnectionHandle, Int)] = []
        for ((handle, _), count) in zip(live, counts) {
            let current = status(of: handle.address)?.ready ?? 0
            if count < current { handle.setReady(count) } else { increases.append((handle, count)) }
        }
        for (handle, count) in increases { handle.setReady(count) }
    }

    private func status(of address: String) -> NSQConnectionStatus? {
        shared.withLockedValue { $0.entries[address]?.status }?.withLockedValue { $0 }
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

/// Counts plays and publishes them under the rules: runs a `PublishPolicy`, sends its calls to a `PublishClient`
/// one at a time and in order, and retries refused calls. The policy decides what goes out; this actor does the
/// I/O, the retries and the timers.
///
/// - Reading: `accept(_:invalidMessages:)` counts one read batch of valid plays (message validation and NSQ live
///   elsewhere) and never waits for the client: `publishSoon()` then asks `run()` to send what became due, so
///   reading goes on while a call is in flight or waits for a retry. `receive(_:invalidMessages:)` does both and
///   waits for the calls (tests, simple callers).
/// - Calls are composed when the client can take one (``PublishPolicy/nextCall(now:)``): videos that fall due
///   while a call is in flight wait together and share the next calls, with their newest counts.
/// - Timers: `run()` sleeps until the next held deadline (or retry, or `publishSoon()`) on the injected
///   `WallClock` and publishes what is due; it ends when its task is cancelled or `stop()` is called.
/// - Sequence numbers 1, 2, 3, … are given when a call is first attempted. A refused call keeps its sequence and
///   its videos and is retried after `RetryBackoff` delays with their current counts (covering the plays read
///   while the client was down), leaving out videos whose count the client already has (rule 4); a retry left
///   empty is dropped. Nothing else is sent while it waits.
/// - `stop()` publishes everything still held and waits until the client accepted it, so nothing is lost.
public actor PlayProcessor {
    private enum WaitCondition { case idle, drained }

    public let configuration: PlayProcessorConfiguration
    private let client: any PublishClient
    private let clock: any WallClock
    private let receiptSink: (@Sendable (String) -> Void)?
    private let journal: (any CallJournal)?
    private let metrics: ProcessorMetrics?

    private var policy: PublishPolicy
    private var recorder: StatsRecorder
    /// A call attempted and refused (or recovered from the journal), to be tried again with its sequence.
    private var pendingRetry: (sequence: Int, videos: [VideoID])?
    private var nextSequence = 1
    private var acceptedCalls = 0
    private var pumping = false
    /// A call is with the client now (its videos are no longer due in the policy, nor yet acknowledged).
    private var callInFlight = false
    private var retryAt: WallNanoseconds?
    private var consecutiveFailures = 0
    private var lastError: String?
    private var readBatches = 0
    /// Plays read since the last call was composed, while a call is due, in flight or waiting for its retry;
    /// not yet given to the stats. The next call publishes them together, so the stats take them as one read
    /// batch when it is composed: else the lower bound, which lets each read batch force its own call, would
    /// count calls no policy could make while the client is busy. Given to the stats at once when nothing is
    /// due, and in any case once they reach ``maxPlaysAwaitingCall``.
    private var playsAwaitingCall = PlayBatch()
    /// Bounds the memory `playsAwaitingCall` takes while a client is down (32 bytes a play); past it, the bound
    /// may count one call too many per this many plays.
    static let maxPlaysAwaitingCall = 100_000
    private var receiptOrigin: WallNanoseconds?
    private var invalidMessages = 0

    private var running = false
    private var stopRequested = false
    /// What the timer loop sleeps until; nil when it sleeps until notified.
    private var sleepTarget: WallNanoseconds?
    /// True only while `run()` sleeps: a wake-up signalled at any other time would be remembered by the signal
    /// and end the next sleep at once, so the loop would spin (it recomputes its target after every tick anyway).
    private var sleeping = false
    private let timerSignal = WakeupSignal()
    /// How many passes `run()`'s timer loop has made (one sleep and tick each), for tests that check it does
    /// not spin.
    private(set) var timerLoopIterations = 0
    private var waiters: [Int: (condition: WaitCondition, signal: WakeupSignal)] = [:]
    private var nextWaiterID = 0

    /// - Parameter receiptSink: receives the receipt log, a chunk of JSON lines per read batch (see `ReceiptLog`).
    /// - Parameter journal: records each call before it is attempted and once it is acknowledged (durable
    ///   outbox); nil for a processor without a state store.
    /// - Parameter metrics: where the stats' events are also reported as they happen; nil reports nothing.
    public init(
        client: any PublishClient,
        clock: any WallClock = SystemWallClock(),
        configuration: PlayProcessorConfiguration = PlayProcessorConfiguration(),
        receiptSink: (@Sendable (String) -> Void)? = nil,
        journal: (any CallJournal)? = nil,
        metrics: ProcessorMetrics? = nil
    ) {
        self.client = client
        self.clock = clock
        self.configuration = configuration
        self.receiptSink = receiptSink
        self.journal = journal
        self.metrics = metrics
        self.policy = PublishPolicy(configuration: configuration.policy)
        self.recorder = StatsRecorder(
            configuration: configuration.policy, readWindow: configuration.readWindow, metrics: metrics)
    }

    // MARK: Recovery

    /// Resumes from durable state, before anything is received: counts and last published counts per video,
    /// held videos with their original deadlines, realtime ones due now (see `PublishPolicy.restore`).
    /// `pendingCall`, a call made but never acknowledged, goes out first with its own sequence number and
    /// current counts; new calls are numbered from `nextSequence` on. `publishPending()` (or `run()`) sends
    /// what is due.
    public func restore(_ videos: [RestoredVideo], pendingCall: PublishCall?, nextSequence: Int) {
        if let pendingCall, !pendingCall.counts.isEmpty, pendingRetry == nil {
            pendingRetry = (pendingCall.sequence, pendingCall.counts.map(\.video))
        }
        self.nextSequence = max(self.nextSequence, nextSequence, (pendingCall?.sequence ?? 0) + 1)
        policy.resume(from: videos, now: clock.now())
    }

    // MARK: Reading

    /// One read batch: the valid plays read together, plus how many invalid messages came with them.
    /// Counts them and sends the realtime calls they need (`accept` then `publishPending`).
    public func receive(_ plays: [Play], invalidMessages invalid: Int = 0) async {
        accept(plays, invalidMessages: invalid)
        await publishPending()
    }

    /// `accept(_:invalidMessages:)` for plays in arrival order.
    public func accept(_ plays: [Play], invalidMessages invalid: Int = 0) {
        accept(PlayBatch(plays), invalidMessages: invalid)
    }

    /// Counts one read batch without sending anything, so the caller can acknowledge the batch's messages (FIN)
    /// before the calls go out; `publishSoon()` (or `publishPending()`) sends them.
    public func accept(_ batch: PlayBatch, invalidMessages invalid: Int = 0) {
        metrics?.accepted(plays: batch.count, invalid: max(0, invalid))
        if invalid > 0 {
            invalidMessages += invalid
            recorder.recordInvalidMessages(invalid)
        }
        guard let first = batch.plays.first else { return }
        readBatches += 1
        if let receiptSink {
            let origin = receiptOrigin ?? first.receivedAt
            receiptOrigin = origin
            receiptSink(ReceiptLog.lines(for: batch.plays, batchNumber: readBatches, origin: origin))
        }
        playsAwaitingCall.append(contentsOf: batch)
        policy.record(batch, now: clock.now())
        let callPending = callInFlight || pendingRetry != nil || policy.hasDueVideos
        if !callPending || playsAwaitingCall.count >= Self.maxPlaysAwaitingCall { recordPlaysAwaitingCall() }
        wakeIfEarlier(policy.hasDueVideos ? clock.now() : policy.nextDeadline)
    }

    /// Sends what is due, in order; returns once it is out (or left to a call already being sent, or to a retry).
    public func publishPending() async {
        await pump()
    }

    /// Asks `run()` to send what is due, without waiting for the client: the way to publish from a reading loop.
    public func publishSoon() {
        wakeIfEarlier(clock.now())
    }

    /// Counts invalid messages that came without valid plays.
    public func recordInvalidMessages(_ count: Int) {
        guard count > 0 else { return }
        metrics?.accepted(plays: 0, invalid: count)
        invalidMessages += count
        recorder.recordInvalidMessages(count)
    }

    // MARK: Timers and lifecycle

    /// Publishes what is due now (held videos past their deadline, a call waiting for its retry).
    public func tick() async {
        policy.advance(to: clock.now())
        await pump()
    }

    /// Drives deadlines and retries until the calling task is cancelled or `stop()` is called.
    /// Returns at once if another `run()` is active.
    public func run() async {
        guard !running else { return }
        running = true
        defer { running = false }
        while !Task.isCancelled, !stopRequested {
            timerLoopIterations += 1
            // Due videos wait only for a retry (the client is down); otherwise they go out now.
            let dueNow = policy.hasDueVideos && retryAt == nil && pendingRetry == nil ? clock.now() : nil
            let target = [dueNow, policy.nextDeadline, retryAt].compactMap { $0 }.min()
            sleepTarget = target
            sleeping = true
            await Self.sleep(until: target, on: clock, orUntil: timerSignal)
            sleeping = false
            sleepTarget = nil
            if Task.isCancelled || stopRequested { break }
            await tick()
        }
    }

    /// Publishes everything held now and returns once the client accepted it (retrying as needed, until the
    /// calling task is cancelled).
    public func flush() async {
        policy.flushHeld()
        await deliverAll()
    }

    /// Ends `run()`, publishes everything still held and waits until the client accepted it: nothing is lost.
    /// Plays received afterwards are still counted and published.
    public func stop() async {
        stopRequested = true
        timerSignal.notify()
        await flush()
    }

    /// Returns when nothing is held and no call is queued or outstanding (or the calling task is cancelled).
    /// Held videos go out at their deadlines, so this needs `run()` (or `flush()`).
    public func waitUntilDrained() async {
        await wait(for: .drained)
    }

    // MARK: Queries

    /// Every video's play count as received.
    public func counts() -> [VideoID: Int] { policy.allCounts }

    public func stats() -> PlayCountStats {
        guard !playsAwaitingCall.isEmpty else { return recorder.snapshot() }
        var withWaiting = recorder
        withWaiting.metrics = nil  // a snapshot only: these plays are reported when they are recorded
        withWaiting.recordBatch(playsAwaitingCall)
        return withWaiting.snapshot()
    }

    public func status() -> ProcessorStatus {
        ProcessorStatus(
            heldVideos: policy.heldVideoCount,
            nextDeadline: policy.nextDeadline,
            receivedPlays: policy.receivedPlays,
            invalidMessages: invalidMessages,
            readBatches: readBatches,
            calls: acceptedCalls,
            pendingCalls: (callInFlight || pendingRetry != nil ? 1 : 0) + policy.dueCallCount,
            client: client.description,
            lastError: lastError,
            consecutiveFailures: consecutiveFailures,
            retryAt: retryAt,
            running: running
        )
    }

    // MARK: Sending

    /// Wakes `run()` if it sleeps past `instant`.
    private func wakeIfEarlier(_ instant: WallNanoseconds?) {
        guard let instant, running, sleeping, sleepTarget.map({ instant < $0 }) ?? true else { return }
        timerSignal.notify()
    }

    /// Sends calls in order until nothing is due or a call is refused. Only one pump runs at a time; a caller
    /// that finds one running leaves the work to it (plays accepted meanwhile join its next call).
    private func pump() async {
        guard !pumping else { return }
        pumping = true
        defer {
            pumping = false
            notifyWaiters()
        }
        while let call = nextAttempt() {
            callInFlight = true
            defer { callInFlight = false }
            do {
                try journal?.callStarted(call)
                try await client.publish(call)
            } catch {
                pendingRetry = (call.sequence, call.counts.map(\.video))
                consecutiveFailures += 1
                lastError = String(describing: error)
                recorder.recordFailedAttempt()
                let retry = clock.now() + configuration.retry.delay(afterFailures: consecutiveFailures)
                retryAt = retry
                wakeIfEarlier(retry)
                return
            }
            pendingRetry = nil
            acceptedCalls += 1
            retryAt = nil
            consecutiveFailures = 0
            policy.acknowledge(call.counts)
            recorder.recordCall(call)
            do {
                try journal?.callAcknowledged(call)
            } catch {
                lastError = "recording call \(call.sequence) as acknowledged: \(error)"
            }
        }
    }

    /// The next call: the refused one again (with its sequence and current counts) once its retry is due, else
    /// the policy's next; nil when nothing is due or a retry is not yet due.
    private func nextAttempt() -> PublishCall? {
        if let retryAt, clock.now() < retryAt { return nil }
        recordPlaysAwaitingCall()
        let now = clock.now()
        if let retry = pendingRetry {
            let counts = policy.retry(retry.videos)
            if !counts.isEmpty {
                return PublishCall(sequence: retry.sequence, publishedAt: now, counts: counts, partition: configuration.partition)
            }
            pendingRetry = nil  // everything it carried was delivered since: its sequence is not used again
        }
        guard let counts = policy.nextCall(now: now) else { return nil }
        defer { nextSequence += 1 }
        return PublishCall(sequence: nextSequence, publishedAt: now, counts: counts, partition: configuration.partition)
    }

    /// Gives the plays read since the last call was composed to the stats, as one read batch.
    private func recordPlaysAwaitingCall() {
        guard !playsAwaitingCall.isEmpty else { return }
        recorder.recordBatch(playsAwaitingCall)
        playsAwaitingCall = PlayBatch()
    }

    /// Pumps until nothing is due, sleeping through retry backoffs.
    private func deliverAll() async {
        while !Task.isCancelled, hasWork || pumping {
            if pumping {
                await wait(for: .idle)
                continue
            }
            if let retryAt {
                do { try await clock.sleep(until: retryAt) } catch { return }
            }
            await pump()
        }
    }

    /// A call is due or waits for its retry.
    private var hasWork: Bool { pendingRetry != nil || policy.hasDueVideos }

    // MARK: Waiting

    private func isSatisfied(_ condition: WaitCondition) -> Bool {
        switch condition {
        case .idle: return !pumping
        case .drained: return !pumping && !hasWork && policy.heldVideoCount == 0
        }
    }

    private func wait(for condition: WaitCondition) async {
        while !isSatisfied(condition), !Task.isCancelled {
            let id = nextWaiterID
            nextWaiterID += 1
            let signal = WakeupSignal()
            waiters[id] = (condition, signal)
            await signal.wait()
            waiters[id] = nil
        }
    }

    private func notifyWaiters() {
        for (id, waiter) in waiters where isSatisfied(waiter.condition) {
            waiters[id] = nil
            waiter.signal.notify()
        }
    }

    /// Sleeps until `target` (forever when nil), until `signal` is notified, or until cancelled.
    private static func sleep(
        until target: WallNanoseconds?, on clock: any WallClock, orUntil signal: WakeupSignal
    ) async {
        await withTaskGroup(of: Void.self) { group in
            if let target {
                group.addTask { try? await clock.sleep(until: target) }
            }
            group.addTask { await signal.wait() }
            await group.next()
            group.cancelAll()
        }
    }
}

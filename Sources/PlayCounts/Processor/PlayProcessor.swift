import DequeModule

/// Counts plays and publishes them under the rules: runs a `PublishPolicy`, sends its calls to a `PublishClient`
/// one at a time and in order, and retries refused calls.
///
/// - Reading: `receive(_:invalidMessages:)` takes one read batch of valid plays (message validation and NSQ live
///   elsewhere). Its realtime calls are sent before it returns, unless a call is already being sent or waits
///   for a retry, in which case they queue behind it.
/// - Timers: `run()` sleeps until the next held deadline (or retry) on the injected `WallClock` and publishes
///   what is due; it ends when its task is cancelled or `stop()` is called.
/// - Sequence numbers 1, 2, 3, … are given when a call is first attempted. Before every attempt a call's counts
///   are replaced by the current counts of its videos (newer counts replace stale ones, so a retried call covers
///   the plays read while the client was down) and videos whose count was already delivered are dropped (rule 4);
///   a call left empty is skipped without a sequence number.
/// - A refused call is retried after `RetryBackoff` delays; calls behind it wait.
/// - `stop()` publishes everything still held and waits until the client accepted it, so nothing is lost.
public actor PlayProcessor {
    private enum WaitCondition { case idle, drained }

    public let configuration: PlayProcessorConfiguration
    private let client: any PublishClient
    private let clock: any WallClock
    private let receiptSink: (@Sendable (String) -> Void)?
    private let journal: (any CallJournal)?

    private var policy: PublishPolicy
    private var recorder: StatsRecorder
    /// Calls decided by the policy, oldest first: the videos each carries (counts are read at send time).
    private var outbox = Deque<[VideoID]>()
    /// The sequence number of the outbox's first call once it has been attempted.
    private var frontSequence: Int?
    private var nextSequence = 1
    private var acceptedCalls = 0
    private var pumping = false
    private var retryAt: WallNanoseconds?
    private var consecutiveFailures = 0
    private var lastError: String?
    private var readBatches = 0
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
    public init(
        client: any PublishClient,
        clock: any WallClock = SystemWallClock(),
        configuration: PlayProcessorConfiguration = PlayProcessorConfiguration(),
        receiptSink: (@Sendable (String) -> Void)? = nil,
        journal: (any CallJournal)? = nil
    ) {
        self.client = client
        self.clock = clock
        self.configuration = configuration
        self.receiptSink = receiptSink
        self.journal = journal
        self.policy = PublishPolicy(configuration: configuration.policy)
        self.recorder = StatsRecorder(configuration: configuration.policy)
    }

    // MARK: Recovery

    /// Resumes from durable state, before anything is received: counts and last published counts per video,
    /// held videos with their original deadlines, realtime ones due now (see `PublishPolicy.restore`).
    /// `pendingCall`, a call made but never acknowledged, goes out first with its own sequence number and
    /// current counts; new calls are numbered from `nextSequence` on. `publishPending()` (or `run()`) sends
    /// what is due.
    public func restore(_ videos: [RestoredVideo], pendingCall: PublishCall?, nextSequence: Int) {
        if let pendingCall, !pendingCall.counts.isEmpty, outbox.isEmpty {
            outbox.append(pendingCall.counts.map(\.video))
            frontSequence = pendingCall.sequence
        }
        self.nextSequence = max(self.nextSequence, nextSequence, (pendingCall?.sequence ?? 0) + 1)
        enqueue(policy.restore(videos, now: clock.now()))
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

    /// Counts one read batch and decides its calls without sending them, so the caller can acknowledge the
    /// batch's messages (FIN) before the calls go out; `publishPending()` sends them.
    public func accept(_ batch: PlayBatch, invalidMessages invalid: Int = 0) {
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
        recorder.recordBatch(batch)
        enqueue(policy.receive(batch, now: clock.now()))
    }

    /// Sends the calls decided so far, in order; returns once they are out (or queued behind a call that is
    /// already being sent or waits for a retry).
    public func publishPending() async {
        await pump()
    }

    /// Counts invalid messages that came without valid plays.
    public func recordInvalidMessages(_ count: Int) {
        guard count > 0 else { return }
        invalidMessages += count
        recorder.recordInvalidMessages(count)
    }

    // MARK: Timers and lifecycle

    /// Publishes what is due now (held videos past their deadline, a call waiting for its retry).
    public func tick() async {
        enqueue(policy.tick(now: clock.now()))
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
            let target = [policy.nextDeadline, retryAt].compactMap { $0 }.min()
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
        enqueue(policy.flush())
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

    public func stats() -> PlayCountStats { recorder.snapshot() }

    public func status() -> ProcessorStatus {
        ProcessorStatus(
            heldVideos: policy.heldVideoCount,
            nextDeadline: policy.nextDeadline,
            receivedPlays: policy.receivedPlays,
            invalidMessages: invalidMessages,
            readBatches: readBatches,
            calls: acceptedCalls,
            pendingCalls: outbox.count,
            client: client.description,
            lastError: lastError,
            consecutiveFailures: consecutiveFailures,
            retryAt: retryAt,
            running: running
        )
    }

    // MARK: Sending

    private func enqueue(_ actions: PublishPolicy.Actions) {
        for call in actions.calls where !call.isEmpty {
            outbox.append(call.map(\.video))
        }
        if let wake = actions.wakeAt, running, sleeping, sleepTarget.map({ wake < $0 }) ?? true {
            timerSignal.notify()
        }
    }

    /// Sends the outbox in order until it is empty or a call is refused. Only one pump runs at a time; a caller
    /// that finds one running leaves its calls to it.
    private func pump() async {
        guard !pumping else { return }
        pumping = true
        defer {
            pumping = false
            notifyWaiters()
        }
        while let call = nextAttempt() {
            do {
                try journal?.callStarted(call)
                try await client.publish(call)
            } catch {
                consecutiveFailures += 1
                lastError = String(describing: error)
                recorder.recordFailedAttempt()
                let retry = clock.now() + configuration.retry.delay(afterFailures: consecutiveFailures)
                retryAt = retry
                if running, sleeping, sleepTarget.map({ retry < $0 }) ?? true { timerSignal.notify() }
                return
            }
            outbox.removeFirst()
            frontSequence = nil
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

    /// The outbox's first call with current counts, or nil when the outbox is empty or a retry is not yet due.
    private func nextAttempt() -> PublishCall? {
        if let retryAt, clock.now() < retryAt { return nil }
        while let videos = outbox.first {
            var counts: [VideoCount] = []
            counts.reserveCapacity(videos.count)
            for video in videos {
                let current = policy.count(of: video)
                if current != policy.deliveredCount(of: video) { counts.append(VideoCount(video: video, plays: current)) }
            }
            if counts.isEmpty {
                outbox.removeFirst()
                frontSequence = nil
                continue
            }
            let sequence = frontSequence ?? nextSequence
            if frontSequence == nil {
                frontSequence = sequence
                nextSequence += 1
            }
            return PublishCall(sequence: sequence, publishedAt: clock.now(), counts: counts)
        }
        return nil
    }

    /// Pumps until the outbox is empty, sleeping through retry backoffs.
    private func deliverAll() async {
        while !Task.isCancelled, !outbox.isEmpty || pumping {
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

    // MARK: Waiting

    private func isSatisfied(_ condition: WaitCondition) -> Bool {
        switch condition {
        case .idle: return !pumping
        case .drained: return !pumping && outbox.isEmpty && policy.heldVideoCount == 0
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

import Metrics
import Logging
import NSQ
import PlayCounts
import PlayState
import Locking
import ServiceLifecycle

/// One run of the processor (`start` … `stop`): an NSQ consumer feeding the `PlayProcessor`, which publishes
/// to the client, with every read batch made durable in the `PlayStateStore` before it is acknowledged.
///
/// Per read batch, chunk by chunk (exactly-once counting over NSQ's at-least-once delivery; the rules are
/// ``IngestDecision``'s, the sequence ``ChunkIngest``'s):
/// 1. redelivered messages (attempts > 1) already committed in the store are FIN'd without counting;
/// 2. the rest are parsed; invalid ones are published to the dead-letter topic with their reason;
/// 3. one `BatchCommit` stores every message key, the count deltas and earliest unpublished queue times;
/// 4. only then are the messages FIN'd, and the processor counts the plays and publishes what is due
///    (each call recorded in the store's outbox before it is attempted and once acknowledged).
/// A crash anywhere loses nothing: uncommitted messages are redelivered by nsqd, committed ones are
/// recognised, and `start` resumes counts, held videos and the outbox from the store.
///
/// Dead letters are at-least-once: a crash between publishing a dead letter and committing its message
/// publishes it again on redelivery. Messages the consumer gives up on (attempts > max attempts) are FIN'd by
/// the consumer before their dead letter is out, so a crash at that moment loses the dead letter.
///
/// Store calls block for one SQLite transaction; they run in the processing task (the cooperative pool),
/// never on an NIO event loop.
public final class PlayPipeline: Sendable {
    public struct Configuration: Sendable {
        public var consumer: NSQConsumerConfiguration
        public var processor: PlayProcessorConfiguration
        public var client: any PublishClient
        public var receiptFile: ReceiptLogFile?
        public var store: PlayStateStore
        public var deadLetters: DeadLetterSink
        /// Warnings and errors of the run (a store that fails, dead letters that cannot be published, …).
        public var logger: Logger
        /// How often committed message ids older than the store's retention are pruned.
        public var pruneInterval: WallNanoseconds = 60 * 1_000_000_000
        /// Fault injection for crash tests only: a pause between a batch's commit and its FIN, widening the
        /// window in which a crash leaves committed messages unacknowledged (redelivered, then skipped as
        /// duplicates). Set from `PLAYCOUNT_TEST_FIN_DELAY_MS`; zero in normal use.
        public var finDelay: Duration = .zero
        /// Where the run's metrics go (``PipelineMetrics``); nil reports none.
        public var metrics: PipelineMetrics?

        public init(
            consumer: NSQConsumerConfiguration, processor: PlayProcessorConfiguration, client: any PublishClient,
            receiptFile: ReceiptLogFile?, store: PlayStateStore, deadLetters: DeadLetterSink,
            logger: Logger
        ) {
            self.consumer = consumer
            self.processor = processor
            self.client = client
            self.receiptFile = receiptFile
            self.store = store
            self.deadLetters = deadLetters
            self.logger = logger
        }
    }

    public let consumer: NSQConsumer
    public let processor: PlayProcessor
    public let client: RecordingPublishClient
    public let receipts: ReceiptRecorder
    public let configuration: PlayProcessorConfiguration
    public let store: PlayStateStore
    public let deadLetters: DeadLetterSink
    let inbox: DeliveryInbox
    let metrics: PipelineMetrics?
    private let parser = PlayMessageParser()
    private let clock = SystemWallClock()
    let logger: Logger
    private let pruneInterval: WallNanoseconds
    private let finDelay: Duration
    /// The consumer's max-in-flight: the RDY window a catch-up read batch gathers (see ``gatheringWait``).
    private let readWindow: Int
    private let invalidReports = Locked(0)
    private let busy = Locked(false)
    private let counterState = Locked(SessionCounters())
    /// Read batches on their way to the processor (see ``acceptHandOffs()``), and how many are not yet counted.
    private let handOffs: AsyncStream<HandOff>
    private let handOffContinuation: AsyncStream<HandOff>.Continuation
    private let handing = Locked(0)
    private let giveUps: AsyncStream<NSQMessage>
    let giveUpContinuation: AsyncStream<NSQMessage>.Continuation
    private let running = Locked<(group: ServiceGroup, run: Task<Void, Never>)?>(nil)
    private let stopped = OneShotEvent()
    private let started = Locked(false)

    public init(_ configuration: Configuration) {
        (handOffs, handOffContinuation) = AsyncStream.makeStream(of: HandOff.self)
        let (giveUps, giveUpContinuation) = AsyncStream.makeStream(of: NSQMessage.self)
        self.giveUps = giveUps
        self.giveUpContinuation = giveUpContinuation
        let inbox = DeliveryInbox()
        self.inbox = inbox
        // Both called on an event loop: only hand over; the processing and dead-letter tasks do the work.
        // Each connection reads again only once its last delivery was processed (see `processDeliveries`).
        var consumerConfiguration = configuration.consumer
        consumerConfiguration.pauseReadingAfterDelivery = true
        self.consumer = NSQConsumer(
            configuration: consumerConfiguration, onGiveUp: { giveUpContinuation.yield($0) },
            onDelivery: { inbox.append($0) }, logger: configuration.logger, metrics: configuration.metrics?.consumer)
        self.metrics = configuration.metrics
        self.client = RecordingPublishClient(configuration.client, metrics: configuration.metrics)
        self.store = configuration.store
        self.processor = PlayProcessor(
            client: client, configuration: configuration.processor, journal: StoreCallJournal(store: configuration.store),
            metrics: configuration.metrics?.processor)
        self.receipts = ReceiptRecorder(file: configuration.receiptFile)
        self.configuration = configuration.processor
        self.deadLetters = configuration.deadLetters
        self.logger = configuration.logger
        self.pruneInterval = configuration.pruneInterval
        self.finDelay = configuration.finDelay
        self.readWindow = configuration.consumer.maxInFlight
    }

    /// Resumes from the state store, then runs the pipeline's services (``services``) in a `ServiceGroup` in the
    /// background; returns once the state is loaded and nsqd will push to us. Throws if the store cannot be read.
    public func start() async throws {
        try store.claim(partition: configuration.partition)
        let snapshot = try store.load()
        await processor.restore(from: snapshot)
        // Recovered calls (the unacknowledged call, realtime videos left unpublished) are due at once: the
        // publisher sends them first, while reading starts.
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(services: services, logger: logger))
        let run = Task { [logger] in
            do {
                try await group.run()
            } catch is CancellationError {
                // stop() gave up waiting (a client that keeps failing): nothing more to say.
            } catch {
                logger.error("the pipeline stopped: \(error)")
            }
            self.stopped.fire()
        }
        running.withLock { $0 = (group, run) }
        started.withLock { $0 = true }
        // A script publishes right after `start`: return once nsqd will push to us, so those plays are
        // consumed (bounded: an nsqd that is down is retried in the background meanwhile).
        if await !consumer.waitUntilSubscribed(timeout: .seconds(5)) {
            logger.warning("not yet subscribed to every nsqd after 5 s; still trying in the background")
        }
    }

    /// Graceful stop, the services in reverse order: CLS and settle in-flight messages, process (commit, FIN)
    /// what was read, publish everything held, release the client; then close the state store. Cancelling the
    /// calling task gives up on a client that keeps failing (what was not delivered stays in the state file).
    public func stop() async {
        guard let (group, run) = running.current else {
            try? store.close()
            return
        }
        await group.triggerGracefulShutdown()
        await withTaskCancellationHandler {
            await run.value
        } onCancel: {
            run.cancel()
        }
        receipts.close()
        do { try store.close() } catch { logger.error("cannot close the state store: \(error)") }
    }

    /// Returns once the pipeline's services have ended, through ``stop()`` or on their own (a consumer that
    /// could not run), or when the calling task is cancelled.
    public func waitUntilStopped() async {
        await stopped.wait()
    }

    /// True once the pipeline's services have ended.
    public var hasStopped: Bool { stopped.hasFired }

    /// True once ``start()`` has loaded the state and started the services.
    public var hasStarted: Bool { started.current }

    /// True while a batch is being processed or counted, or deliveries wait for it.
    public var isProcessing: Bool { busy.current || handing.current > 0 || inbox.pendingCount > 0 }

    /// Dead letters, skipped duplicates and store failures so far.
    public var counters: SessionCounters { counterState.current }

    // MARK: Read batches

    /// Reads, commits and counts every delivery until the consumer's deliveries end (see ``IngestService``).
    func ingest() async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.acceptHandOffs() }
            await self.processDeliveries()
            self.handOffContinuation.finish()
        }
    }

    /// Reads, commits and acknowledges deliveries as they come, and hands their plays to the processor, which
    /// publishes on its own task: reading never waits for the client.
    ///
    /// While the consumer catches up on a backlog, deliveries come from the catch-up connection (or fill the
    /// live connection's RDY window), each committed and FIN'd as it comes so nsqd keeps sending. Such
    /// deliveries, read back to back, form one read batch (their realtime videos share calls) for
    /// ``catchUpBatchSpan``, longer while short of a window (``gatheringWait``); the first live delivery that
    /// does not fill its window closes the batch at once. In live traffic a delivery is a batch of its own,
    /// handed over without waiting.
    private func processDeliveries() async {
        var batchNumber = 0
        var lastPrune = clock.now()
        var open: (batch: HandOff, since: ContinuousClock.Instant)?
        while true {
            let taken: [NSQDelivery]?
            if let (batch, since) = open {
                let wait = gatheringWait(plays: batch.batch.count, since: since)
                taken = if let wait { await inbox.takeAll(waitingAtMost: wait) } else { [] }
            } else {
                taken = await inbox.takeAll()
            }
            guard let deliveries = taken, !deliveries.isEmpty else {
                if let batch = open?.batch {
                    hand(batch)
                    open = nil
                    busy.withLock { $0 = false }
                }
                if taken == nil { break }
                continue
            }
            busy.withLock { $0 = true }
            batchNumber += 1
            let (plays, invalid) = await process(deliveries, batchNumber: batchNumber)
            // Taken out of `open`, so appending does not copy what it gathered so far.
            var (batch, since) = open.take() ?? (HandOff(), ContinuousClock.now)
            batch.batch.append(contentsOf: plays)
            batch.invalid += invalid
            batch.reads.append((batchNumber, plays.count))
            if deliveries.allSatisfy(Self.isCatchingUp), gatheringWait(plays: batch.batch.count, since: since) != nil {
                open = (batch, since)
            } else {
                open = nil
                hand(batch)
            }
            // On a live connection, what nsqd sent meanwhile waits in the socket, to be read together as the next
            // batch (a catch-up connection never pauses: there this does nothing).
            var resumed = Set<ObjectIdentifier>()
            for delivery in deliveries where resumed.insert(ObjectIdentifier(delivery.connection)).inserted {
                delivery.connection.resumeReading()
            }
            let now = clock.now()
            if now - lastPrune >= pruneInterval {
                lastPrune = now
                do { try store.prune(now: now) } catch { logger.error("cannot prune committed message ids: \(error)") }
            }
            // A batch still gathering reads is not yet with the processor: still busy.
            busy.withLock { $0 = open != nil }
        }
    }

    /// A delivery read while behind: anything the catch-up connection read, or a live read that filled its RDY
    /// window.
    private static func isCatchingUp(_ delivery: NSQDelivery) -> Bool {
        delivery.filledWindow || delivery.connection.role == .catchUp
    }

    /// How long an open catch-up read batch may still wait for its next read; nil: hand it over now. It gathers
    /// for ``catchUpBatchSpan``, and on, read after read, until it holds a whole RDY window (max-in-flight
    /// plays), while reads come within ``catchUpQuietGap`` of each other, for at most ``catchUpBatchMaxSpan``:
    /// on a slow or busy machine 50 ms can hold only a fraction of a window, and each batch costs a call.
    private func gatheringWait(plays: Int, since: ContinuousClock.Instant) -> Duration? {
        let age = ContinuousClock.now - since
        if age < Self.catchUpBatchSpan { return Self.catchUpBatchSpan - age }
        guard plays < readWindow, age < Self.catchUpBatchMaxSpan else { return nil }
        return min(Self.catchUpQuietGap, Self.catchUpBatchMaxSpan - age)
    }

    /// How long catch-up reads back to back in a backlog gather into one read batch: a realtime play read while
    /// catching up waits this long for its call (it has waited in the queue far longer), up to
    /// ``catchUpBatchMaxSpan`` while the batch holds less than a window.
    public static let catchUpBatchSpan: Duration = .milliseconds(50)
    /// The longest a catch-up read batch gathers, well inside the 1 s the audit gives a realtime play.
    public static let catchUpBatchMaxSpan: Duration = .milliseconds(250)
    /// A batch short of a window past ``catchUpBatchSpan`` is handed over once no read came for this long (the
    /// backlog has ended; on a busy machine reads can come tens of milliseconds apart while it has not).
    public static let catchUpQuietGap: Duration = .milliseconds(50)

    /// A read batch, committed and FIN'd, for the processor to count.
    private struct HandOff: Sendable {
        var batch = PlayBatch()
        var invalid = 0
        /// The numbered reads (`process` calls) it gathers, in order, and how many of `batch.plays` each gave.
        var reads: [(number: Int, plays: Int)] = []
    }

    /// Hands a committed read batch to ``acceptHandOffs()`` without waiting for it to be counted.
    private func hand(_ batch: HandOff) {
        handing.withLock { $0 += 1 }
        handOffContinuation.yield(batch)
    }

    /// Counts read batches in the order they were read and lets the processor publish them (never waiting for
    /// the client). On a task of its own, so the audit records, grouping by video, the stats and the policy run
    /// beside the next reads' commits instead of after them. The queue stays short: counting a batch costs far
    /// less than reading and committing it.
    private func acceptHandOffs() async {
        for await handOff in handOffs {
            var start = 0
            for read in handOff.reads {
                receipts.keep(handOff.batch.plays[start..<start + read.plays], batch: read.number)
                start += read.plays
            }
            await processor.accept(handOff.batch, invalidMessages: handOff.invalid)
            await processor.publishSoon()
            handing.withLock { $0 -= 1 }
        }
    }

    /// The deliveries taken together: dedupe, parse, dead-letter, commit and FIN them chunk by chunk; returns
    /// their valid plays and how many messages were dead-lettered.
    ///
    /// Why chunks: nsqd refills a consumer's RDY window only as FINs arrive. A whole window read in one burst
    /// and FIN'd only once all of it is committed leaves the broker idle while the batch is processed and the
    /// processor idle while the broker sends the next window. FIN'ing each committed chunk at once lets the
    /// broker send while the rest is processed. The plays still count and publish as one read batch: the
    /// calls are the same as without chunks.
    private func process(_ deliveries: [NSQDelivery], batchNumber: Int) async -> (PlayBatch, Int) {
        let now = clock.now()
        let messages = deliveries.map(\.messages)
        var batch = PlayBatch()
        var redelivery = RedeliveryTracker(batch: messages)
        let effects = SessionIngestEffects(session: self, deliveries: deliveries, batchNumber: batchNumber)
        let ingest = ChunkIngest(parser: parser)
        var deadLettered = 0, duplicates = 0, deadLetterFailures = 0, commitFailures = 0
        var chunk: [MessageRef] = []
        chunk.reserveCapacity(Self.commitChunkSize)
        var failed = false
        func ingestChunk() async {
            let outcome = await ingest.run(chunk, of: messages, redelivery: &redelivery, receivedAt: now, effects: effects)
            chunk.removeAll(keepingCapacity: true)
            for (id, rejection) in outcome.rejections { reportInvalid(id, rejection) }
            if outcome.deadLettered > 0, let metrics {
                for (_, rejection) in outcome.rejections { metrics.deadLettered(reason: rejection.reason.rawValue) }
            }
            deadLettered += outcome.deadLettered
            duplicates += outcome.duplicates
            deadLetterFailures += outcome.deadLetterFailures
            if outcome.committed {
                batch.append(contentsOf: outcome.plays)
            } else {
                commitFailures += 1
                failed = true
            }
        }
        for (index, delivery) in messages.enumerated() {
            for position in delivery.indices {
                if failed {
                    // A chunk could not be committed: the store is failing, so give the rest back to nsqd too.
                    deliveries[index].requeue(delivery[position])
                    continue
                }
                chunk.append(MessageRef(delivery: index, message: position))
                if chunk.count == Self.commitChunkSize { await ingestChunk() }
            }
        }
        if !failed, !chunk.isEmpty { await ingestChunk() }
        counterState.withLock {
            $0.deadLettered += deadLettered
            $0.duplicatesSkipped += duplicates
            $0.deadLetterFailures += deadLetterFailures
            $0.commitFailures += commitFailures
        }
        if let metrics {
            if duplicates > 0 { metrics.duplicatesSkipped.increment(by: duplicates) }
            if deadLetterFailures > 0 { metrics.deadLetterFailures.increment(by: deadLetterFailures) }
            if commitFailures > 0 { metrics.commitFailures.increment(by: commitFailures) }
        }
        return (batch, deadLettered)
    }

    /// Messages per commit (and FIN) within a read batch.
    public static let commitChunkSize = 512

    /// ``ChunkIngest``'s effects for one read batch: the session's store, dead-letter sink and receipt file,
    /// and the deliveries' connections.
    private struct SessionIngestEffects: IngestEffects {
        let session: PlayPipeline
        let deliveries: [NSQDelivery]
        let batchNumber: Int
        /// The crash tests' fault-injection pause (`finDelay`) applies once per read batch, before its first FIN.
        private let delayPending = Locked(true)

        init(session: PlayPipeline, deliveries: [NSQDelivery], batchNumber: Int) {
            self.session = session
            self.deliveries = deliveries
            self.batchNumber = batchNumber
        }

        func alreadyCommitted(_ keys: [MessageKey]) throws -> Set<MessageKey> {
            keys.isEmpty ? [] : try session.store.alreadyCommitted(keys)
        }

        var deadLetterDestination: String { session.deadLetters.topic }

        func publishDeadLetters(_ letters: [DeadLetter]) async throws {
            try await session.deadLetters.publish(letters)
        }

        func writeAhead(_ plays: [Play], keys: [MessageKey]) {
            guard session.receipts.writesFile else { return }
            session.receipts.writeAhead(plays, messageIDs: keys.map(\.id.description), batch: batchNumber)
        }

        func commit(_ batch: BatchCommit) throws {
            guard let metrics = session.metrics else { return try session.store.commit(batch) }
            let started = ContinuousClock.now
            try session.store.commit(batch)
            metrics.commitDuration.record(duration: ContinuousClock.now - started)
        }

        func finish(_ refs: [MessageRef]) async {
            if session.finDelay > .zero, delayPending.withLock({ pending in defer { pending = false }; return pending }) {
                try? await Task.sleep(for: session.finDelay)
            }
            forEachDelivery(of: refs) { delivery, positions in
                delivery.finish(positions.map { delivery.messages[$0].id })
            }
        }

        func requeue(_ refs: [MessageRef]) {
            for ref in refs { deliveries[ref.delivery].requeue(deliveries[ref.delivery].messages[ref.message]) }
        }

        var logger: Logger { session.logger }

        /// Calls `body` once per delivery that `refs` name, with their positions in it, in order.
        private func forEachDelivery(of refs: [MessageRef], _ body: (NSQDelivery, [Int]) -> Void) {
            var positions: [[Int]] = Array(repeating: [], count: deliveries.count)
            for ref in refs { positions[ref.delivery].append(ref.message) }
            for (index, list) in positions.enumerated() where !list.isEmpty { body(deliveries[index], list) }
        }
    }

    /// Publishes a dead letter for each message the consumer gave up on (already FIN'd by the consumer).
    func deadLetterGiveUps() async {
        for await message in giveUps {
            // Counted before (committed, FIN lost) and redelivered since: nothing to dead-letter.
            let key = ParsedMessage(ref: MessageRef(delivery: 0, message: 0), message: message, parser: parser).key
            let committed = (try? store.alreadyCommitted([key]).isEmpty) == false
            guard
                let letter = IngestDecision.giveUp(
                    message, committed: committed, maxAttempts: consumer.configuration.maxAttempts)
            else {
                counterState.withLock { $0.duplicatesSkipped += 1 }
                metrics?.duplicatesSkipped.increment()
                continue
            }
            do {
                try await deadLetters.publish([letter])
                counterState.withLock {
                    $0.deadLettered += 1
                    $0.gaveUp += 1
                }
                metrics?.deadLettered(reason: DeadLetter.maxAttemptsReason)
            } catch {
                counterState.withLock { $0.deadLetterFailures += 1 }
                metrics?.deadLetterFailures.increment()
                logger.error(
                    "cannot publish the dead letter of a message given up on: \(error)",
                    metadata: ["message_id": "\(message.id)", "topic": "\(deadLetters.topic)"])
            }
        }
    }

    /// Reports the first few invalid messages, then every 1000th, so garbage cannot flood the terminal.
    private func reportInvalid(_ id: NSQMessageID, _ rejection: PlayMessageRejection) {
        let seen = invalidReports.withLock { count -> Int in
            count += 1
            return count
        }
        guard seen <= 5 || seen % 1000 == 0 else { return }
        logger.warning(
            "invalid message \(id) (\(seen) so far): \(rejection)",
            metadata: ["message_id": "\(id)", "reason": "\(rejection.reason.rawValue)"])
    }
}

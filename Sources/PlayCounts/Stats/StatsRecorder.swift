/// Accumulates `PlayCountStats` from what was read and what was delivered. Memory is bounded by the videos seen
/// plus the plays not yet visible (each waits in a per-video queue until a delivered call covers it).
public struct StatsRecorder: Sendable {
    public let configuration: PublishPolicyConfiguration
    public private(set) var bound: PublishLowerBound
    /// Per video, in one table so a play costs one hash lookup.
    ///
    /// The plays received but not yet made visible by a delivered call wait in `queuedAt`, oldest first, as
    /// `queuedAt[head...]` (an array with a head index appends faster than a Deque; the consumed prefix is
    /// dropped in bulk). Only their queue arrival is kept, 8 bytes a play: at a million plays a minute, the
    /// plays waiting for their deadline are most of the recorder's memory. A play is realtime when fewer than
    /// the threshold plays of its video were recorded before it, so realtime plays are a prefix of each
    /// video's plays: their receive instants (for the receive → call latency) wait in `realtimeReceivedAt`.
    private struct VideoState: Sendable {
        var published = 0
        /// How many of the video's recorded plays came before `queuedAt[0]`.
        var base = 0
        var queuedAt: [WallNanoseconds] = []
        var head = 0
        var realtimeReceivedAt: [WallNanoseconds] = []
        var realtimeHead = 0

        /// Plays recorded so far.
        var recorded: Int { base + queuedAt.count }
    }

    private var videos = VideoTable(initial: VideoState())
    private var fromReceive = LatencyHistogram()
    private var fromQueue = LatencyHistogram()
    private var invalidMessages = 0
    private var plays = 0
    private var realtimePlays = 0
    private var calls = 0
    private var failedAttempts = 0
    private var videosPublished = 0
    private var videosPerCallMax = 0
    private var worstStaleness: WallNanoseconds = 0
    private var latePlays = 0
    private var stalePlays = 0

    /// The floor given the RDY window, when the reader's window is known.
    public private(set) var windowFloor: ReadWindowFloor?
    /// Where the figures are also reported as they are recorded (realtime and late plays, calls, latencies,
    /// staleness); nil reports nothing. A copy made only to read a snapshot must set it to nil.
    public var metrics: ProcessorMetrics?

    /// - Parameter readWindow: the consumer's max-in-flight, for ``PlayCountStats/windowFloor``; nil leaves it out.
    public init(
        configuration: PublishPolicyConfiguration = PublishPolicyConfiguration(), readWindow: Int? = nil,
        metrics: ProcessorMetrics? = nil
    ) {
        self.configuration = configuration
        self.metrics = metrics
        self.bound = PublishLowerBound(configuration: configuration)
        self.windowFloor = readWindow.map { ReadWindowFloor(window: $0, configuration: configuration) }
    }

    public mutating func recordInvalidMessages(_ count: Int) {
        invalidMessages += max(0, count)
    }

    public mutating func recordFailedAttempt() {
        failedAttempts += 1
        metrics?.failedAttempts.increment()
    }

    /// One read batch of valid plays.
    public mutating func recordBatch(_ batch: [Play]) {
        recordBatch(PlayBatch(batch))
    }

    /// One read batch of valid plays.
    public mutating func recordBatch(_ batch: PlayBatch) {
        bound.observe(batch: batch)
        windowFloor?.observe(batch.plays)
        let threshold = configuration.realtimeThreshold
        let maxStaleness = configuration.maxStaleness
        plays += batch.count
        let (realtimeBefore, lateBefore) = (realtimePlays, latePlays)
        for group in batch.videos {
            let slot = videos.slot(of: group.video)
            for play in group.plays {
                if videos.values[slot].recorded < threshold {
                    realtimePlays += 1
                    videos.values[slot].realtimeReceivedAt.append(play.receivedAt)
                }
                videos.values[slot].queuedAt.append(play.queuedAt)
                if play.receivedAt > play.queuedAt.saturatingAdd(maxStaleness) { latePlays += 1 }
            }
        }
        if let metrics {
            if realtimePlays > realtimeBefore { metrics.realtimePlays.increment(by: realtimePlays - realtimeBefore) }
            if latePlays > lateBefore { metrics.latePlays.increment(by: latePlays - lateBefore) }
        }
    }

    /// One call the client accepted.
    public mutating func recordCall(_ call: PublishCall) {
        calls += 1
        videosPublished += call.counts.count
        videosPerCallMax = max(videosPerCallMax, call.counts.count)
        let staleBefore = stalePlays
        defer {
            if let metrics {
                metrics.calls.increment()
                metrics.videosPerCall.record(call.counts.count)
                if stalePlays > staleBefore { metrics.stalePlays.increment(by: stalePlays - staleBefore) }
            }
        }
        for entry in call.counts {
            guard let slot = videos.existingSlot(of: entry.video), entry.plays > videos.values[slot].published else {
                continue
            }
            // Moved out of the table while it changes, so its queues are not copied.
            var state = videos.values[slot]
            videos.values[slot] = VideoState()
            var newlyVisible = entry.plays - state.published
            state.published = entry.plays
            let threshold = configuration.realtimeThreshold
            while newlyVisible > 0, state.head < state.queuedAt.count {
                let queuedAt = state.queuedAt[state.head]
                let realtime = state.base + state.head < threshold
                state.head += 1
                newlyVisible -= 1
                let staleness = call.publishedAt.saturatingSubtract(queuedAt)
                worstStaleness = max(worstStaleness, staleness)
                if staleness > configuration.maxStaleness { stalePlays += 1 }
                metrics?.stalenessAtPublish.recordNanoseconds(staleness)
                if realtime {
                    let receivedAt = state.realtimeReceivedAt[state.realtimeHead]
                    state.realtimeHead += 1
                    let fromReceiveNanoseconds = call.publishedAt.saturatingSubtract(receivedAt)
                    fromReceive.record(fromReceiveNanoseconds)
                    fromQueue.record(staleness)
                    if let metrics {
                        metrics.realtimeLatencyFromReceive.recordNanoseconds(fromReceiveNanoseconds)
                        metrics.realtimeLatencyFromQueue.recordNanoseconds(staleness)
                    }
                }
            }
            Self.dropConsumed(&state)
            videos.values[slot] = state
        }
    }

    /// Frees the consumed prefix of a video's queues once it is all or most of them.
    private static func dropConsumed(_ state: inout VideoState) {
        if state.head == state.queuedAt.count {
            state.base += state.head
            state.queuedAt = []  // frees the storage
            state.head = 0
        } else if state.head > state.queuedAt.count / 2 {
            state.base += state.head
            state.queuedAt.removeFirst(state.head)
            state.head = 0
        }
        if state.realtimeHead == state.realtimeReceivedAt.count {
            state.realtimeReceivedAt = []
            state.realtimeHead = 0
        }
    }

    public func snapshot() -> PlayCountStats {
        let lowerBound = bound.value
        return PlayCountStats(
            messages: plays + invalidMessages,
            invalidMessages: invalidMessages,
            plays: plays,
            realtimePlays: realtimePlays,
            calls: calls,
            failedAttempts: failedAttempts,
            videosPublished: videosPublished,
            videosPerCallMean: calls == 0 ? 0 : Double(videosPublished) / Double(calls),
            videosPerCallMax: videosPerCallMax,
            realtimeLatencyFromReceive: LatencySummary(fromReceive),
            realtimeLatencyFromQueue: LatencySummary(fromQueue),
            worstStalenessMs: Double(worstStaleness) / 1e6,
            latePlays: latePlays,
            stalePlays: stalePlays,
            lowerBound: lowerBound,
            forcedCalls: bound.forcedCalls,
            heldSlots: bound.heldSlots,
            spareSlots: bound.spareSlots,
            windowFloor: windowFloor?.value,
            callsOverBound: lowerBound == 0 ? 1 : Double(calls) / Double(lowerBound)
        )
    }
}

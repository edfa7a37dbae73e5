/// Accumulates `PlayCountStats` from what was read and what was delivered. Memory is bounded by the videos seen
/// plus the plays not yet visible (each waits in a per-video queue until a delivered call covers it).
public struct StatsRecorder: Sendable {
    private struct PendingPlay: Sendable {
        var queuedAt: WallNanoseconds
        var receivedAt: WallNanoseconds
        var realtime: Bool
    }

    public let configuration: PublishPolicyConfiguration
    public private(set) var bound: PublishLowerBound
    /// Per video, in one table so a play costs one hash lookup.
    private struct VideoState: Sendable {
        var received = 0
        var published = 0
        /// Plays received but not yet made visible by a delivered call, oldest first: `pending[pendingHead...]`
        /// (an array with a head index appends faster than a Deque; the consumed prefix is dropped in bulk).
        var pending: [PendingPlay] = []
        var pendingHead = 0
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

    public init(configuration: PublishPolicyConfiguration = PublishPolicyConfiguration()) {
        self.configuration = configuration
        self.bound = PublishLowerBound(configuration: configuration)
    }

    public mutating func recordInvalidMessages(_ count: Int) {
        invalidMessages += max(0, count)
    }

    public mutating func recordFailedAttempt() {
        failedAttempts += 1
    }

    /// One read batch of valid plays.
    public mutating func recordBatch(_ batch: [Play]) {
        recordBatch(PlayBatch(batch))
    }

    /// One read batch of valid plays.
    public mutating func recordBatch(_ batch: PlayBatch) {
        bound.observe(batch: batch)
        let threshold = configuration.realtimeThreshold
        let maxStaleness = configuration.maxStaleness
        plays += batch.count
        for group in batch.videos {
            let slot = videos.slot(of: group.video)
            for play in group.plays {
                let realtime = Self.record(play, realtimeThreshold: threshold, in: &videos.values[slot])
                if realtime { realtimePlays += 1 }
                if play.receivedAt > play.queuedAt.saturatingAdd(maxStaleness) { latePlays += 1 }
            }
        }
    }

    /// One call the client accepted.
    public mutating func recordCall(_ call: PublishCall) {
        calls += 1
        videosPublished += call.counts.count
        videosPerCallMax = max(videosPerCallMax, call.counts.count)
        for entry in call.counts {
            guard let slot = videos.existingSlot(of: entry.video), entry.plays > videos.values[slot].published else {
                continue
            }
            // Moved out of the table while it changes, so its queue is not copied.
            var state = videos.values[slot]
            videos.values[slot].pending = []
            var newlyVisible = entry.plays - state.published
            state.published = entry.plays
            while newlyVisible > 0, state.pendingHead < state.pending.count {
                let play = state.pending[state.pendingHead]
                state.pendingHead += 1
                newlyVisible -= 1
                let staleness = call.publishedAt.saturatingSubtract(play.queuedAt)
                worstStaleness = max(worstStaleness, staleness)
                if staleness > configuration.maxStaleness { stalePlays += 1 }
                if play.realtime {
                    fromReceive.record(call.publishedAt.saturatingSubtract(play.receivedAt))
                    fromQueue.record(staleness)
                }
            }
            if state.pendingHead == state.pending.count {
                state.pending = []  // frees the queue's storage
                state.pendingHead = 0
            } else if state.pendingHead > state.pending.count / 2 {
                state.pending.removeFirst(state.pendingHead)
                state.pendingHead = 0
            }
            videos.values[slot] = state
        }
    }

    /// Counts one play in its video's state; returns whether it was realtime.
    @inline(__always)
    private static func record(_ play: Play, realtimeThreshold: Int, in state: inout VideoState) -> Bool {
        let realtime = state.received < realtimeThreshold
        state.received += 1
        state.pending.append(PendingPlay(queuedAt: play.queuedAt, receivedAt: play.receivedAt, realtime: realtime))
        return realtime
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
            callsOverBound: lowerBound == 0 ? 1 : Double(calls) / Double(lowerBound)
        )
    }
}

import DequeModule

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
    private var received: [VideoID: Int] = [:]
    private var published: [VideoID: Int] = [:]
    private var pending: [VideoID: Deque<PendingPlay>] = [:]
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
        bound.observe(batch: batch)
        for play in batch {
            let before = received[play.video, default: 0]
            received[play.video] = before + 1
            let realtime = before < configuration.realtimeThreshold
            plays += 1
            if realtime { realtimePlays += 1 }
            if play.receivedAt > play.queuedAt.saturatingAdd(configuration.maxStaleness) { latePlays += 1 }
            pending[play.video, default: []].append(
                PendingPlay(queuedAt: play.queuedAt, receivedAt: play.receivedAt, realtime: realtime))
        }
    }

    /// One call the client accepted.
    public mutating func recordCall(_ call: PublishCall) {
        calls += 1
        videosPublished += call.counts.count
        videosPerCallMax = max(videosPerCallMax, call.counts.count)
        for entry in call.counts {
            let before = published[entry.video, default: 0]
            guard entry.plays > before else { continue }
            published[entry.video] = entry.plays
            var newlyVisible = entry.plays - before
            while newlyVisible > 0, let play = pending[entry.video]?.popFirst() {
                newlyVisible -= 1
                let staleness = call.publishedAt.saturatingSubtract(play.queuedAt)
                worstStaleness = max(worstStaleness, staleness)
                if staleness > configuration.maxStaleness { stalePlays += 1 }
                if play.realtime {
                    fromReceive.record(call.publishedAt.saturatingSubtract(play.receivedAt))
                    fromQueue.record(staleness)
                }
            }
            if pending[entry.video]?.isEmpty == true { pending[entry.video] = nil }
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
            callsOverBound: lowerBound == 0 ? 1 : Double(calls) / Double(lowerBound)
        )
    }
}

/// A latency distribution in milliseconds.
public struct LatencySummary: Sendable, Hashable, Codable {
    public var count: Int
    public var p50Ms: Double
    public var p99Ms: Double
    public var maxMs: Double

    public init(count: Int = 0, p50Ms: Double = 0, p99Ms: Double = 0, maxMs: Double = 0) {
        self.count = count
        self.p50Ms = p50Ms
        self.p99Ms = p99Ms
        self.maxMs = maxMs
    }

    public init(_ histogram: LatencyHistogram) {
        self.init(
            count: histogram.count,
            p50Ms: Double(histogram.percentile(0.5)) / 1e6,
            p99Ms: Double(histogram.percentile(0.99)) / 1e6,
            maxMs: Double(histogram.maximum) / 1e6
        )
    }

    enum CodingKeys: String, CodingKey {
        case count
        case p50Ms = "p50_ms"
        case p99Ms = "p99_ms"
        case maxMs = "max_ms"
    }
}

/// What the processor did, for `stats` and `stats --json`.
public struct PlayCountStats: Sendable, Hashable, Codable {
    /// Messages seen: valid plays plus invalid messages.
    public var messages: Int
    public var invalidMessages: Int
    public var plays: Int
    public var realtimePlays: Int
    /// Calls delivered to the client.
    public var calls: Int
    /// Attempts that threw (each was retried).
    public var failedAttempts: Int
    /// Video slots over all calls.
    public var videosPublished: Int
    public var videosPerCallMean: Double
    public var videosPerCallMax: Int
    /// Realtime plays, from being read to being delivered.
    public var realtimeLatencyFromReceive: LatencySummary
    /// Realtime plays, from arriving on the queue to being delivered.
    public var realtimeLatencyFromQueue: LatencySummary
    /// The oldest play (by queue time) any delivered call made visible, in milliseconds.
    public var worstStalenessMs: Double
    /// Plays read already past `queuedAt + maxStaleness` (no policy could have been on time).
    public var latePlays: Int
    /// Plays made visible later than `queuedAt + maxStaleness` (includes late plays and client outages).
    public var stalePlays: Int
    /// The fewest calls any policy obeying the rules could have made (see `PublishLowerBound`).
    public var lowerBound: Int
    public var forcedCalls: Int
    public var heldSlots: Int
    public var spareSlots: Int
    /// The floor had every read taken a whole RDY window (see `ReadWindowFloor`); nil when the window is unknown.
    public var windowFloor: Int?
    /// `calls / lowerBound` (1 when the bound is 0).
    public var callsOverBound: Double

    public init(
        messages: Int = 0, invalidMessages: Int = 0, plays: Int = 0, realtimePlays: Int = 0, calls: Int = 0,
        failedAttempts: Int = 0, videosPublished: Int = 0, videosPerCallMean: Double = 0, videosPerCallMax: Int = 0,
        realtimeLatencyFromReceive: LatencySummary = LatencySummary(),
        realtimeLatencyFromQueue: LatencySummary = LatencySummary(),
        worstStalenessMs: Double = 0, latePlays: Int = 0, stalePlays: Int = 0, lowerBound: Int = 0,
        forcedCalls: Int = 0, heldSlots: Int = 0, spareSlots: Int = 0, windowFloor: Int? = nil,
        callsOverBound: Double = 1
    ) {
        self.messages = messages
        self.invalidMessages = invalidMessages
        self.plays = plays
        self.realtimePlays = realtimePlays
        self.calls = calls
        self.failedAttempts = failedAttempts
        self.videosPublished = videosPublished
        self.videosPerCallMean = videosPerCallMean
        self.videosPerCallMax = videosPerCallMax
        self.realtimeLatencyFromReceive = realtimeLatencyFromReceive
        self.realtimeLatencyFromQueue = realtimeLatencyFromQueue
        self.worstStalenessMs = worstStalenessMs
        self.latePlays = latePlays
        self.stalePlays = stalePlays
        self.lowerBound = lowerBound
        self.forcedCalls = forcedCalls
        self.heldSlots = heldSlots
        self.spareSlots = spareSlots
        self.windowFloor = windowFloor
        self.callsOverBound = callsOverBound
    }

    enum CodingKeys: String, CodingKey {
        case messages
        case invalidMessages = "invalid_messages"
        case plays
        case realtimePlays = "realtime_plays"
        case calls
        case failedAttempts = "failed_attempts"
        case videosPublished = "videos_published"
        case videosPerCallMean = "videos_per_call_mean"
        case videosPerCallMax = "videos_per_call_max"
        case realtimeLatencyFromReceive = "realtime_latency_from_receive"
        case realtimeLatencyFromQueue = "realtime_latency_from_queue"
        case worstStalenessMs = "worst_staleness_ms"
        case latePlays = "late_plays"
        case stalePlays = "stale_plays"
        case lowerBound = "lower_bound"
        case forcedCalls = "forced_calls"
        case heldSlots = "held_slots"
        case spareSlots = "spare_slots"
        case windowFloor = "window_floor"
        case callsOverBound = "calls_over_bound"
    }
}

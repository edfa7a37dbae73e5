/// The knobs of the publish rules. The defaults are the user's rules: 100 plays, one minute, 20 videos.
public struct PublishPolicyConfiguration: Sendable, Hashable, Codable {
    /// A play is realtime when its video had fewer plays than this before it (rule 1).
    public var realtimeThreshold: Int
    /// A held play must be visible this long after it arrived on the queue, at the latest (rule 2).
    public var maxStaleness: WallNanoseconds
    /// Held videos are published this much before their rule deadline, to cover the call's own latency and
    /// timer wake-up jitter. Margin costs efficiency where held videos drive the calls: they come every
    /// `maxStaleness - safetyMargin` instead of every `maxStaleness` (+0.4 % at the default 250 ms, +3.4 % at 2 s).
    /// A call to stdout, a file or a local webhook takes milliseconds; raise it for a slow remote webhook.
    public var safetyMargin: WallNanoseconds
    /// At most this many videos per call (rule 3).
    public var maxVideosPerCall: Int

    public init(
        realtimeThreshold: Int = 100,
        maxStaleness: WallNanoseconds = 60_000_000_000,
        safetyMargin: WallNanoseconds = 250_000_000,
        maxVideosPerCall: Int = 20
    ) {
        self.realtimeThreshold = max(0, realtimeThreshold)
        self.maxStaleness = max(0, maxStaleness)
        self.safetyMargin = min(max(0, safetyMargin), max(0, maxStaleness))
        self.maxVideosPerCall = min(max(1, maxVideosPerCall), 1 << 20)
    }

    /// Decodes through `init(...)`, so decoded values are clamped the same way.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = PublishPolicyConfiguration()
        self.init(
            realtimeThreshold: try container.decodeIfPresent(Int.self, forKey: .realtimeThreshold) ?? defaults.realtimeThreshold,
            maxStaleness: try container.decodeIfPresent(WallNanoseconds.self, forKey: .maxStaleness) ?? defaults.maxStaleness,
            safetyMargin: try container.decodeIfPresent(WallNanoseconds.self, forKey: .safetyMargin) ?? defaults.safetyMargin,
            maxVideosPerCall: try container.decodeIfPresent(Int.self, forKey: .maxVideosPerCall) ?? defaults.maxVideosPerCall)
    }

    enum CodingKeys: String, CodingKey {
        case realtimeThreshold = "realtime_threshold"
        case maxStaleness = "max_staleness_ns"
        case safetyMargin = "safety_margin_ns"
        case maxVideosPerCall = "max_videos_per_call"
    }
}

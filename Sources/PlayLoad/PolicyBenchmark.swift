import PlayCounts

/// Canned policy scenarios for `playcount-bench`: each simulates the pure policy and reports calls against the
/// lower bound (and whether the audit is clean). Figures, not assertions.
public enum PolicyBenchmark {
    public struct Figures: Sendable, Hashable, Codable, CustomStringConvertible {
        public var scenario: String
        public var plays: Int
        public var calls: Int
        public var lowerBound: Int
        public var callsOverBound: Double
        public var videosPerCallMean: Double
        public var violations: Int

        public var description: String {
            let ratio = (callsOverBound * 10_000).rounded() / 10_000
            let mean = (videosPerCallMean * 100).rounded() / 100
            return "\(scenario): \(plays) plays, \(calls) calls, lower bound \(lowerBound), calls/bound \(ratio), "
                + "\(mean) videos/call, \(violations) rule violations"
        }

        enum CodingKeys: String, CodingKey {
            case scenario, plays, calls
            case lowerBound = "lower_bound"
            case callsOverBound = "calls_over_bound"
            case videosPerCallMean = "videos_per_call_mean"
            case violations
        }
    }

    /// Simulates `trace` and summarises it.
    public static func measure(
        _ scenario: String, _ trace: [TraceBatch], configuration: PublishPolicyConfiguration = PublishPolicyConfiguration()
    ) -> Figures {
        let simulation = PolicySimulation.run(trace, configuration: configuration)
        let stats = simulation.stats
        return Figures(
            scenario: scenario, plays: stats.plays, calls: stats.calls, lowerBound: stats.lowerBound,
            callsOverBound: stats.callsOverBound, videosPerCallMean: stats.videosPerCallMean,
            violations: simulation.audit().count)
    }

    /// The standard scenarios: a 100k backlog, a 30-minute live trace at 200 plays/s, and an hour of live
    /// traffic where every video is already past the threshold (held-only: the margin's cost shows).
    public static func standardScenarios(
        configuration: PublishPolicyConfiguration = PublishPolicyConfiguration(), seed: UInt64 = 1
    ) -> [Figures] {
        let start: WallNanoseconds = 1_700_000_000_000_000_000
        let backlog = SyntheticTrace.backlog(
            seed: seed, videos: ZipfVideos(count: 100, exponent: 1.35), plays: 100_000, batchSize: 2_500,
            readStart: start)
        let videos = ZipfVideos(count: 100, exponent: 1.2, salt: seed)
        let live = SyntheticTrace.live(seed: seed, videos: videos, rate: 200, duration: 1_800, readInterval: 0.005, start: start)
        var heldOnly = SyntheticTrace.live(seed: seed, videos: videos, rate: 200, duration: 3_600, readInterval: 0.005, start: start)
        let warmAt = start - 1
        let warm = videos.videos.flatMap { video in
            repeatElement(Play(video: video, queuedAt: warmAt, receivedAt: warmAt), count: configuration.realtimeThreshold)
        }
        heldOnly.insert(TraceBatch(readAt: warmAt, plays: warm), at: 0)
        return [
            measure("backlog 100k in batches of 2500", backlog, configuration: configuration),
            measure("live 200 plays/s for 30 min", live, configuration: configuration),
            measure("held-only 200 plays/s for 60 min", heldOnly, configuration: configuration),
        ]
    }
}

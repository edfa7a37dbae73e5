import CoreMetrics

/// The processor's figures as swift-metrics instruments: the same events `PlayCountStats` counts, reported as
/// they happen, to whatever backend the program bootstrapped (Prometheus in `playcount --http-address`).
///
/// Names follow Prometheus conventions (`_total` counters, base units in `_seconds`); no label carries a
/// video id, so the series stay bounded whatever the number of videos. The histograms' buckets are
/// ``durationBuckets`` and ``valueBuckets``: a backend that takes buckets per name (swift-prometheus's
/// `PrometheusMetricsFactory`) should be given them.
public struct ProcessorMetrics: Sendable {
    /// Messages read: valid plays plus invalid messages (`PlayCountStats.messages`).
    let messages: Counter
    let invalidMessages: Counter
    let plays: Counter
    let realtimePlays: Counter
    let latePlays: Counter
    let stalePlays: Counter
    /// Calls the client accepted.
    let calls: Counter
    let failedAttempts: Counter
    let videosPerCall: Recorder
    let realtimeLatencyFromQueue: Timer
    let realtimeLatencyFromReceive: Timer
    let stalenessAtPublish: Timer

    public enum Name {
        public static let messages = "playcount_messages_total"
        public static let invalidMessages = "playcount_invalid_messages_total"
        public static let plays = "playcount_plays_total"
        public static let realtimePlays = "playcount_realtime_plays_total"
        public static let latePlays = "playcount_late_plays_total"
        public static let stalePlays = "playcount_stale_plays_total"
        public static let calls = "playcount_calls_total"
        public static let failedAttempts = "playcount_call_attempts_failed_total"
        public static let videosPerCall = "playcount_call_videos"
        public static let realtimeLatencyFromQueue = "playcount_realtime_latency_queue_seconds"
        public static let realtimeLatencyFromReceive = "playcount_realtime_latency_receive_seconds"
        public static let stalenessAtPublish = "playcount_staleness_at_publish_seconds"
    }

    /// Buckets of the duration histograms, by name. Realtime latency is a few milliseconds when all is well
    /// (the README's target: p99 ≤ 5 ms); staleness runs up to the 60 s deadline, and past it in an outage.
    public static let durationBuckets: [String: [Duration]] = {
        let latency: [Duration] = [0.5, 1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 5000].map { .microseconds($0 * 1000) }
        let staleness: [Duration] = [0.001, 0.005, 0.025, 0.1, 0.5, 1, 5, 15, 30, 45, 55, 60, 90, 300].map {
            .milliseconds($0 * 1000)
        }
        return [
            Name.realtimeLatencyFromQueue: latency, Name.realtimeLatencyFromReceive: latency,
            Name.stalenessAtPublish: staleness,
        ]
    }()

    /// Buckets of the value histograms, by name: videos per call run from 1 to the 20 a call may carry.
    public static let valueBuckets: [String: [Double]] = [Name.videosPerCall: [1, 2, 5, 10, 15, 19, 20]]

    public init(factory: any MetricsFactory = MetricsSystem.factory) {
        messages = Counter(label: Name.messages, factory: factory)
        invalidMessages = Counter(label: Name.invalidMessages, factory: factory)
        plays = Counter(label: Name.plays, factory: factory)
        realtimePlays = Counter(label: Name.realtimePlays, factory: factory)
        latePlays = Counter(label: Name.latePlays, factory: factory)
        stalePlays = Counter(label: Name.stalePlays, factory: factory)
        calls = Counter(label: Name.calls, factory: factory)
        failedAttempts = Counter(label: Name.failedAttempts, factory: factory)
        videosPerCall = Recorder(label: Name.videosPerCall, aggregate: true, factory: factory)
        realtimeLatencyFromQueue = Timer(label: Name.realtimeLatencyFromQueue, factory: factory)
        realtimeLatencyFromReceive = Timer(label: Name.realtimeLatencyFromReceive, factory: factory)
        stalenessAtPublish = Timer(label: Name.stalenessAtPublish, factory: factory)
    }

    /// A read batch as the processor accepts it.
    func accepted(plays count: Int, invalid: Int) {
        if count > 0 { plays.increment(by: count) }
        if count + invalid > 0 { messages.increment(by: count + invalid) }
        if invalid > 0 { invalidMessages.increment(by: invalid) }
    }
}

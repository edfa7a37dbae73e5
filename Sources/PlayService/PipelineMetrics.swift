import CoreMetrics
import NSQ
import PlayCounts

/// Every metric a running pipeline reports, through swift-metrics (the program picks the backend: Prometheus
/// behind `playcount --http-address`). The counters and histograms are reported as events happen, by the
/// processor (``ProcessorMetrics``), the consumer (``NSQConsumerMetrics``) and the pipeline itself (dead
/// letters, duplicates, commits, client errors); the gauges are set from the pipeline's status by
/// ``refreshGauges(from:)``, which the scrape calls first. No label carries a video id.
public struct PipelineMetrics: Sendable {
    public let processor: ProcessorMetrics
    public let consumer: NSQConsumerMetrics
    private let deadLetters: [String: Counter]
    let deadLetterFailures: Counter
    let duplicatesSkipped: Counter
    let commitFailures: Counter
    let commitDuration: Timer
    private let clientErrors: [ClientErrorKind: Counter]
    private let gauges: Gauges

    public enum Name {
        public static let prefix = "playcount_"
        public static let deadLetters = "playcount_dead_letters_total"
        public static let deadLetterFailures = "playcount_dead_letter_failures_total"
        public static let duplicatesSkipped = "playcount_duplicates_skipped_total"
        public static let commitFailures = "playcount_state_commit_failures_total"
        public static let commitDuration = "playcount_state_commit_duration_seconds"
        public static let clientErrors = "playcount_client_errors_total"
        public static let running = "playcount_processor_running"
        public static let heldVideos = "playcount_held_videos"
        public static let nextDeadline = "playcount_next_deadline_seconds"
        public static let pendingCalls = "playcount_pending_calls"
        public static let lowerBound = "playcount_lower_bound_calls"
        public static let clientFailures = "playcount_client_consecutive_failures"
        public static let connections = "playcount_nsq_connections"
        public static let ready = "playcount_nsq_rdy"
        public static let inFlight = "playcount_nsq_in_flight_messages"
    }

    /// The dead-letter reasons: why a message was not a play, or that the consumer gave up on it.
    public static let deadLetterReasons =
        PlayMessageRejection.Reason.allCases.map(\.rawValue) + [DeadLetter.maxAttemptsReason]

    /// Duration buckets by name (the processor's, and the commit's: one SQLite transaction, well under 10 ms
    /// on a local disk).
    public static var durationBuckets: [String: [Duration]] {
        ProcessorMetrics.durationBuckets.merging([
            Name.commitDuration: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 1000].map { .microseconds($0 * 1000) }
        ]) { first, _ in first }
    }

    public static var valueBuckets: [String: [Double]] { ProcessorMetrics.valueBuckets }

    public init(factory: any MetricsFactory = MetricsSystem.factory) {
        processor = ProcessorMetrics(factory: factory)
        consumer = NSQConsumerMetrics(prefix: Name.prefix, factory: factory)
        deadLetters = Dictionary(uniqueKeysWithValues: Self.deadLetterReasons.map {
            ($0, Counter(label: Name.deadLetters, dimensions: [("reason", $0)], factory: factory))
        })
        deadLetterFailures = Counter(label: Name.deadLetterFailures, factory: factory)
        duplicatesSkipped = Counter(label: Name.duplicatesSkipped, factory: factory)
        commitFailures = Counter(label: Name.commitFailures, factory: factory)
        commitDuration = Timer(label: Name.commitDuration, factory: factory)
        clientErrors = Dictionary(uniqueKeysWithValues: ClientErrorKind.allCases.map {
            ($0, Counter(label: Name.clientErrors, dimensions: [("kind", $0.rawValue)], factory: factory))
        })
        gauges = Gauges(factory: factory)
    }

    func deadLettered(reason: String, count: Int = 1) {
        guard count > 0 else { return }
        (deadLetters[reason] ?? deadLetters[DeadLetter.maxAttemptsReason])?.increment(by: count)
    }

    func clientError(_ error: any Error) {
        clientErrors[ClientErrorKind(error)]?.increment()
    }

    /// Sets the gauges from the running or last pipeline (nil: none has run, zeros).
    public func refreshGauges(from pipeline: PlayPipeline?) async {
        guard let pipeline else {
            gauges.reset()
            return
        }
        let status = await pipeline.processor.status()
        let stats = await pipeline.processor.stats()
        gauges.running.record(status.running && !pipeline.hasStopped ? 1 : 0)
        gauges.heldVideos.record(status.heldVideos)
        let now = SystemWallClock().now()
        gauges.nextDeadline.record(status.nextDeadline.map { Double(max(0, $0 - now)) / 1e9 } ?? 0)
        gauges.pendingCalls.record(status.pendingCalls)
        gauges.lowerBound.record(stats.lowerBound)
        gauges.clientFailures.record(status.consecutiveFailures)
        let connections = pipeline.consumer.status().connections
        for (state, gauge) in gauges.connections {
            gauge.record(connections.count { $0.state == state })
        }
        for (role, gauge) in gauges.ready {
            gauge.record(connections.filter { $0.role == role }.reduce(0) { $0 + $1.ready })
        }
        for (role, gauge) in gauges.inFlight {
            gauge.record(connections.filter { $0.role == role }.reduce(0) { $0 + $1.inFlight })
        }
    }

    /// What kind of failure a client's refusal was, for `playcount_client_errors_total{kind}`: errors that know
    /// their kind say so (``ClassifiedPublishError``), the rest are `other`.
    enum ClientErrorKind: String, CaseIterable {
        case timeout, connect, connection, status, tls, other
        /// The attempt was given up when the pipeline stopped.
        case cancelled

        init(_ error: any Error) {
            if error is CancellationError {
                self = .cancelled
            } else if let classified = error as? any ClassifiedPublishError {
                self = Self(rawValue: classified.kind.rawValue) ?? .other
            } else {
                self = .other
            }
        }
    }

    private struct Gauges: Sendable {
        let running: Gauge
        let heldVideos: Gauge
        let nextDeadline: Gauge
        let pendingCalls: Gauge
        let lowerBound: Gauge
        let clientFailures: Gauge
        let connections: [(NSQConnectionStatus.State, Gauge)]
        let ready: [(NSQConnectionRole, Gauge)]
        let inFlight: [(NSQConnectionRole, Gauge)]

        init(factory: any MetricsFactory) {
            running = Gauge(label: Name.running, factory: factory)
            heldVideos = Gauge(label: Name.heldVideos, factory: factory)
            nextDeadline = Gauge(label: Name.nextDeadline, factory: factory)
            pendingCalls = Gauge(label: Name.pendingCalls, factory: factory)
            lowerBound = Gauge(label: Name.lowerBound, factory: factory)
            clientFailures = Gauge(label: Name.clientFailures, factory: factory)
            connections = NSQConnectionStatus.State.allCases.map {
                ($0, Gauge(label: Name.connections, dimensions: [("state", $0.rawValue)], factory: factory))
            }
            ready = NSQConnectionRole.allCases.map {
                ($0, Gauge(label: Name.ready, dimensions: [("role", $0.rawValue)], factory: factory))
            }
            inFlight = NSQConnectionRole.allCases.map {
                ($0, Gauge(label: Name.inFlight, dimensions: [("role", $0.rawValue)], factory: factory))
            }
        }

        func reset() {
            for gauge in [running, heldVideos, nextDeadline, pendingCalls, lowerBound, clientFailures] {
                gauge.record(0)
            }
            for (_, gauge) in connections { gauge.record(0) }
            for (_, gauge) in ready + inFlight { gauge.record(0) }
        }
    }
}

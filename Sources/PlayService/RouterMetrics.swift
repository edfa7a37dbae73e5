import CoreMetrics
import NSQ

/// What a router (`route`) reports through swift-metrics (Prometheus behind `--http-address`), as it happens:
/// the messages it read, the plays it routed per partition (K is bounded: at most `Partition.maxCount`
/// labels), dead letters, originals requeued, and how long the MPUB of a read batch took.
public struct RouterMetrics: Sendable {
    public enum Name {
        public static let prefix = "playcount_router_"
        public static let messages = "playcount_router_messages_total"
        public static let routed = "playcount_router_routed_plays_total"
        public static let deadLetters = "playcount_router_dead_letters_total"
        public static let requeued = "playcount_router_requeued_total"
        public static let publishDuration = "playcount_router_publish_duration_seconds"
    }

    let messages: Counter
    let routed: [Counter]
    let deadLetters: Counter
    let requeued: Counter
    let publishDuration: Timer
    /// The router's NSQ consumer (received, finished, requeued, …), under `playcount_router_`.
    public let consumer: NSQConsumerMetrics

    public init(partitions: Int, factory: any MetricsFactory = MetricsSystem.factory) {
        messages = Counter(label: Name.messages, factory: factory)
        routed = (0..<partitions).map { Counter(label: Name.routed, dimensions: [("partition", String($0))], factory: factory) }
        deadLetters = Counter(label: Name.deadLetters, factory: factory)
        requeued = Counter(label: Name.requeued, factory: factory)
        publishDuration = Timer(label: Name.publishDuration, factory: factory)
        consumer = NSQConsumerMetrics(prefix: Name.prefix, factory: factory)
    }
}

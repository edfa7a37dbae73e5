import CoreMetrics

/// A consumer's message counts as swift-metrics counters, summed over its connections (no per-nsqd label:
/// the series stay the same whatever nsqd come and go). Published once per read burst, as the connection's
/// own status is.
public struct NSQConsumerMetrics: Sendable {
    let received: Counter
    let finished: Counter
    let requeued: Counter
    let gaveUp: Counter
    let touched: Counter

    /// - Parameter prefix: put before each name, e.g. `playcount_` gives `playcount_nsq_messages_received_total`.
    public init(prefix: String = "", factory: any MetricsFactory = MetricsSystem.factory) {
        received = Counter(label: prefix + Name.received, factory: factory)
        finished = Counter(label: prefix + Name.finished, factory: factory)
        requeued = Counter(label: prefix + Name.requeued, factory: factory)
        gaveUp = Counter(label: prefix + Name.gaveUp, factory: factory)
        touched = Counter(label: prefix + Name.touched, factory: factory)
    }

    public enum Name {
        /// Messages nsqd delivered, redeliveries included.
        public static let received = "nsq_messages_received_total"
        /// Messages acknowledged (FIN), the given-up ones included.
        public static let finished = "nsq_messages_finished_total"
        /// Messages given back to nsqd (REQ) for redelivery.
        public static let requeued = "nsq_messages_requeued_total"
        /// Messages past the consumer's max attempts, handed to its give-up hook and FIN'd.
        public static let gaveUp = "nsq_messages_gave_up_total"
        /// TOUCHes sent to keep held messages from timing out.
        public static let touched = "nsq_messages_touched_total"
    }
}

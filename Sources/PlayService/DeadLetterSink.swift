import NIOCore
import NSQ
import Locking

/// Publishes dead letters (see `DeadLetter`) to the dead-letter topic on the nsqd the processor consumes from.
/// The producer is found on first use, so a processor that only knows lookupd starts before any nsqd has
/// the topic.
public final class DeadLetterSink: Sendable {
    public let topic: String
    private let findProducer: @Sendable () async throws -> NSQProducer
    private let producer = Locked<NSQProducer?>(nil)

    public init(topic: String, findProducer: @escaping @Sendable () async throws -> NSQProducer) {
        self.topic = topic
        self.findProducer = findProducer
    }

    /// Publishes `letters` (MPUB batches); throws if nsqd did not take them all.
    func publish(_ letters: [DeadLetter]) async throws {
        guard !letters.isEmpty else { return }
        let producer: NSQProducer
        if let known = self.producer.current {
            producer = known
        } else {
            producer = try await findProducer()
            self.producer.withLock { $0 = producer }
        }
        try await producer.publishBatched(topic: topic, bodies: letters.map { $0.encoded() })
    }
}

import NIOCore
import NSQ

/// Publishes dead letters (see `DeadLetter`) to the dead-letter topic on the nsqd the processor consumes from.
final class DeadLetterSink: Sendable {
    let topic: String
    private let producer: NSQProducer

    init(topic: String, producer: NSQProducer) {
        self.topic = topic
        self.producer = producer
    }

    /// Publishes `letters` (MPUB batches); throws if nsqd did not take them all.
    func publish(_ letters: [DeadLetter]) async throws {
        guard !letters.isEmpty else { return }
        try await producer.publishBatched(topic: topic, bodies: letters.map { $0.encoded() })
    }
}

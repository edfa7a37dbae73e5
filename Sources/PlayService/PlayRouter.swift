import Logging
import NIOCore
import NSQ
import PlayCounts
import Locking
import ServiceLifecycle

/// `route`: reads plays from `<topic>` and republishes each to its partition's topic `<topic>.p<k>`
/// (``Partition``), so K owners each count one partition. Any number of routers may share the channel: nsqd
/// spreads the messages over them.
///
/// Per read batch (everything delivered while the last batch was being routed):
/// 1. each message is parsed; a routed copy carries the original's queue time, id and attempts
///    (``RoutedPlayBody``), so the owner's deadlines run from the play's first arrival and a redelivered
///    original routed twice is counted once;
/// 2. the copies are published with MPUB, per partition, to the nsqd the original was read from;
/// 3. only once nsqd acknowledged a partition's MPUB are its originals FIN'd; a refused MPUB REQs them (their
///    redelivery, attempts + 1, tells the owner to check for a copy already counted).
/// Invalid messages go to the dead-letter topic, FIN'd once it took them. Nothing is kept: a crash at any point
/// leaves the originals in flight on nsqd, which sends them again after msg_timeout.
public final class PlayRouter: Sendable {
    public struct Configuration: Sendable {
        /// Reads `<topic>`; the partition topics are named after it.
        public var consumer: NSQConsumerConfiguration
        /// K: how many partition topics.
        public var partitions: Int
        public var deadLetters: DeadLetterSink
        public var logger: Logger
        /// The producer publishing to the nsqd whose TCP address is given: the one a batch was read from.
        public var producer: @Sendable (String) -> NSQProducer
        /// Where the router's metrics go; nil reports none.
        public var metrics: RouterMetrics?

        public init(
            consumer: NSQConsumerConfiguration, partitions: Int, deadLetters: DeadLetterSink, logger: Logger,
            producer: @escaping @Sendable (String) -> NSQProducer
        ) {
            self.consumer = consumer
            self.partitions = partitions
            self.deadLetters = deadLetters
            self.logger = logger
            self.producer = producer
        }
    }

    /// What the router did so far.
    public struct Counters: Sendable, Hashable, Encodable {
        public var messages = 0
        /// Plays published to a partition topic (and their originals FIN'd).
        public var routed = 0
        /// Plays routed to each partition, by index.
        public var perPartition: [Int]
        public var deadLettered = 0
        /// Originals given back to nsqd because their MPUB (or dead letter) failed.
        public var requeued = 0
        /// MPUB commands sent.
        public var publishes = 0
        /// Read batches routed.
        public var batches = 0

        enum CodingKeys: String, CodingKey {
            case messages, routed, batches, publishes, requeued
            case perPartition = "per_partition"
            case deadLettered = "dead_lettered"
        }
    }

    public let consumer: NSQConsumer
    public let configuration: Configuration
    private let inbox = DeliveryInbox()
    private let parser = PlayMessageParser()
    private let counterState: Locked<Counters>
    private let giveUps: AsyncStream<NSQMessage>
    private let giveUpContinuation: AsyncStream<NSQMessage>.Continuation
    private let invalidReports = Locked(0)

    public init(_ configuration: Configuration) {
        precondition((1...Partition.maxCount).contains(configuration.partitions))
        self.configuration = configuration
        counterState = Locked(Counters(perPartition: Array(repeating: 0, count: configuration.partitions)))
        let (giveUps, giveUpContinuation) = AsyncStream.makeStream(of: NSQMessage.self)
        self.giveUps = giveUps
        self.giveUpContinuation = giveUpContinuation
        let inbox = self.inbox
        consumer = NSQConsumer(
            configuration: configuration.consumer, onGiveUp: { giveUpContinuation.yield($0) },
            onDelivery: { inbox.append($0) }, logger: configuration.logger, metrics: configuration.metrics?.consumer)
    }

    public var counters: Counters { counterState.current }

    /// True while deliveries wait or a batch is being routed.
    public var isRouting: Bool { busy.current || inbox.pendingCount > 0 }
    private let busy = Locked(false)

    /// The partition topic names, p0 … p<K-1>.
    public var partitionTopics: [String] {
        (0..<configuration.partitions).map { Partition(index: $0, count: configuration.partitions)!.topic(of: configuration.consumer.topic) }
    }

    /// Consumes and routes until ``stop()`` (or cancellation): then CLS, the batches in flight are routed and
    /// settled, and the connections close.
    public func run() async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                defer {
                    self.inbox.finish()
                    self.giveUpContinuation.finish()
                }
                try await self.consumer.run()
            }
            group.addTask { await self.deadLetterGiveUps() }
            // Routing goes on until the consumer's deliveries end, even when `run` is cancelled (the consumer
            // then settles what is in flight, which needs routing): a task of its own, out of cancellation's reach.
            await Task { await self.routeDeliveries() }.value
            try await group.waitForAll()
        }
    }

    /// Stops reading (CLS) and returns once what was in flight is settled and the connections are closed.
    public func stop() async {
        await consumer.stop()
    }

    private func routeDeliveries() async {
        while let deliveries = await inbox.takeAll() {
            guard !deliveries.isEmpty else { continue }
            busy.withLock { $0 = true }
            await route(deliveries)
            busy.withLock { $0 = false }
        }
    }

    /// One read batch's copies bound for one partition topic on one nsqd, and the originals they settle.
    private struct Outgoing {
        var bodies: [ByteBuffer] = []
        var refs: [MessageRef] = []

        mutating func append(_ body: ByteBuffer, _ ref: MessageRef) {
            bodies.append(body)
            refs.append(ref)
        }
    }

    private struct Destination: Hashable {
        var address: String
        var partition: Int
    }

    private func route(_ deliveries: [NSQDelivery]) async {
        var outgoing: [Destination: Outgoing] = [:]
        var invalid: [(ref: MessageRef, letter: DeadLetter)] = []
        var body: [UInt8] = []
        body.reserveCapacity(160)
        var messages = 0
        for (index, delivery) in deliveries.enumerated() {
            let address = delivery.connection.address
            for (position, message) in delivery.messages.enumerated() {
                messages += 1
                let ref = MessageRef(delivery: index, message: position)
                switch parser.parsePlay(message.body) {
                case .success(let play):
                    // A copy routed again (a chain of routers) keeps its first origin.
                    let origin = play.origin ?? PlayOrigin(
                        queuedAt: message.timestamp, idHigh: message.id.high, idLow: message.id.low,
                        attempts: Int(message.attempts))
                    let partition = Partition.of(play.video, count: configuration.partitions).index
                    body.removeAll(keepingCapacity: true)
                    RoutedPlayBody.append(play.video, origin: origin, to: &body)
                    outgoing[Destination(address: address, partition: partition), default: Outgoing()].append(
                        ByteBuffer(bytes: body), ref)
                case .failure(let rejection):
                    reportInvalid(message.id, rejection)
                    invalid.append((ref, DeadLetter(message: message, rejection: rejection)))
                }
            }
        }
        let topic = configuration.consumer.topic
        let partitions = configuration.partitions
        let producer = configuration.producer
        let logger = configuration.logger
        let publishStarted = ContinuousClock.now
        // Every destination's MPUB at once; each settles its own originals.
        let results = await withTaskGroup(of: (Destination, Bool).self) { group in
            for (destination, copies) in outgoing {
                group.addTask {
                    let partitionTopic = Partition(index: destination.partition, count: partitions)!.topic(of: topic)
                    let target = producer(destination.address)
                    do {
                        try await target.publishBatched(topic: partitionTopic, bodies: copies.bodies)
                        return (destination, true)
                    } catch {
                        logger.error(
                            "cannot publish \(copies.bodies.count) play(s) to \(partitionTopic) on \(target.address): \(error); requeueing them",
                            metadata: ["topic": "\(partitionTopic)", "nsqd": "\(target.address)"])
                        return (destination, false)
                    }
                }
            }
            var results: [Destination: Bool] = [:]
            for await (destination, ok) in group { results[destination] = ok }
            return results
        }
        configuration.metrics?.publishDuration.record(duration: ContinuousClock.now - publishStarted)
        var finish: [MessageRef] = []
        var requeue: [MessageRef] = []
        var routedPerPartition = Array(repeating: 0, count: partitions)
        for (destination, copies) in outgoing {
            if results[destination] == true {
                finish.append(contentsOf: copies.refs)
                routedPerPartition[destination.partition] += copies.refs.count
            } else {
                requeue.append(contentsOf: copies.refs)
            }
        }
        var deadLettered = 0
        if !invalid.isEmpty {
            do {
                try await configuration.deadLetters.publish(invalid.map(\.letter))
                finish.append(contentsOf: invalid.map(\.ref))
                deadLettered = invalid.count
            } catch {
                logger.error(
                    "cannot publish \(invalid.count) dead letter(s): \(error); requeueing them",
                    metadata: ["topic": "\(configuration.deadLetters.topic)"])
                requeue.append(contentsOf: invalid.map(\.ref))
            }
        }
        settle(finish, requeue, in: deliveries)
        if let metrics = configuration.metrics {
            metrics.messages.increment(by: messages)
            for (partition, count) in routedPerPartition.enumerated() where count > 0 {
                metrics.routed[partition].increment(by: count)
            }
            if deadLettered > 0 { metrics.deadLetters.increment(by: deadLettered) }
            if !requeue.isEmpty { metrics.requeued.increment(by: requeue.count) }
        }
        counterState.withLock { counters in
            counters.messages += messages
            counters.batches += 1
            counters.publishes += outgoing.count
            counters.deadLettered += deadLettered
            counters.requeued += requeue.count
            for (partition, count) in routedPerPartition.enumerated() {
                counters.perPartition[partition] += count
                counters.routed += count
            }
        }
    }

    /// FINs and REQs originals, one FIN write per delivery.
    private func settle(_ finish: [MessageRef], _ requeue: [MessageRef], in deliveries: [NSQDelivery]) {
        var positions: [[Int]] = Array(repeating: [], count: deliveries.count)
        for ref in finish { positions[ref.delivery].append(ref.message) }
        for (index, list) in positions.enumerated() where !list.isEmpty {
            deliveries[index].finish(list.map { deliveries[index].messages[$0].id })
        }
        for ref in requeue { deliveries[ref.delivery].requeue(deliveries[ref.delivery].messages[ref.message]) }
    }

    /// Dead letters for the originals the consumer gave up on (delivered more than max attempts, already FIN'd).
    private func deadLetterGiveUps() async {
        let maxAttempts = configuration.consumer.maxAttempts
        for await message in giveUps {
            let letter = DeadLetter(
                message: message, reason: DeadLetter.maxAttemptsReason,
                detail: "delivered \(message.attempts) times, more than max attempts \(maxAttempts)")
            do {
                try await configuration.deadLetters.publish([letter])
                counterState.withLock { $0.deadLettered += 1 }
                configuration.metrics?.deadLetters.increment()
            } catch {
                configuration.logger.error(
                    "cannot publish the dead letter of a message given up on: \(error)",
                    metadata: ["message_id": "\(message.id)", "topic": "\(configuration.deadLetters.topic)"])
            }
        }
    }

    /// The first few invalid messages, then every 1000th.
    private func reportInvalid(_ id: NSQMessageID, _ rejection: PlayMessageRejection) {
        let seen = invalidReports.withLock { count -> Int in
            count += 1
            return count
        }
        guard seen <= 5 || seen % 1000 == 0 else { return }
        configuration.logger.warning(
            "invalid message \(id) (\(seen) so far): \(rejection)",
            metadata: ["message_id": "\(id)", "reason": "\(rejection.reason.rawValue)"])
    }
}

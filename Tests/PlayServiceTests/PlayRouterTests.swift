import Logging
import NIOCore
import NSQ
import NSQBroker
import PlayCounts
import MetricsTestKit
import Testing

@testable import PlayService
import Locking

/// The router against an in-process broker: every play lands on its partition's topic with its origin, invalid
/// messages in the dead-letter topic, and an original is FIN'd only once its copy was taken.
@Suite struct PlayRouterTests {
    typealias Support = PipelineLifecycleTests

    static func router(
        broker: NSQBroker, producerAddress: String? = nil, partitions: Int = 3, metrics: RouterMetrics? = nil
    ) -> PlayRouter {
        let address = "127.0.0.1:\(broker.tcpPort ?? 0)"
        var consumer = NSQConsumerConfiguration(
            topic: "plays", channel: "router", nsqdTCPAddresses: [address], maxInFlight: 100)
        consumer.requeueDelay = .milliseconds(50)
        let producers = Locked<[String: NSQProducer]>([:])
        var configuration = PlayRouter.Configuration(
                consumer: consumer, partitions: partitions,
            deadLetters: DeadLetterSink(topic: "plays.dead") { NSQProducer(address: address) },
            logger: Logger(label: "test"),
            producer: { read in
                    let target = producerAddress ?? read
                    return producers.withLock { known in
                        if let producer = known[target] { return producer }
                        let producer = NSQProducer(address: target, connectTimeout: .milliseconds(200))
                        known[target] = producer
                        return producer
                    }
                })
        configuration.metrics = metrics
        return PlayRouter(configuration)
    }

    /// Every message of `topic` (read on a channel of its own, and FIN'd).
    static func drain(_ topic: String, count: Int, broker: NSQBroker) async throws -> [NSQMessage] {
        let consumer = NSQConsumer(
            configuration: NSQConsumerConfiguration(
                topic: topic, channel: "check", nsqdTCPAddresses: ["127.0.0.1:\(broker.tcpPort ?? 0)"], maxInFlight: 500))
        let running = Task { try await consumer.run() }
        var messages: [NSQMessage] = []
        for await delivery in consumer.deliveries {
            messages += delivery.messages
            delivery.finishAll()
            if messages.count >= count { break }
        }
        await consumer.stop()
        try await running.value
        return messages
    }

    static let videos = (0..<30).map { VideoID(high: 0x1234_5678_9abc_4def &+ UInt64($0) << 32, low: 0x8000_0000_0000_0000 | UInt64($0)) }

    @Test func everyPlayGoesToItsPartitionWithItsOrigin() async throws {
        try await Support.withBroker { broker in
            // The partition topics need a channel before the copies arrive, so `drain` sees them all.
            for k in 0..<3 { try await broker.create(topic: "plays.p\(k)", channel: "check") }
            let plays = (0..<600).map { Self.videos[$0 % Self.videos.count] }
            let bodies = plays.map { ByteBuffer(string: #"{"video_id": "\#($0)"}"#) }
                + [ByteBuffer(string: "not json"), ByteBuffer(string: #"{"video_id": 7}"#)]
            try await broker.publish(topic: "plays", bodies: bodies)
            let metrics = TestMetrics()
            let router = Self.router(broker: broker, metrics: RouterMetrics(partitions: 3, factory: metrics))
            let running = Task { try await router.run() }
            try await Support.waitUntil("every play routed") { router.counters.routed == 600 && router.counters.deadLettered == 2 }
            try await Support.waitUntil("every original FIN'd") {
                let channel = await broker.stats().topic("plays")?.channel("router")
                return channel?.depth == 0 && channel?.inFlightCount == 0
            }
            await router.stop()
            try await running.value

            let counters = router.counters
            #expect(counters.messages == 602)
            #expect(counters.requeued == 0)
            var origins = Set<PlayOrigin>()
            var routed: [VideoID: Int] = [:]
            for k in 0..<3 {
                let expected = plays.filter { Partition.of($0, count: 3).index == k }.count
                #expect(counters.perPartition[k] == expected)
                for message in try await Self.drain("plays.p\(k)", count: expected, broker: broker) {
                    let parsed = try PlayMessageParser().parsePlay(message.body).get()
                    #expect(Partition.of(parsed.video, count: 3).index == k)
                    let origin = try #require(parsed.origin)
                    #expect(origin.attempts == 1)
                    #expect(origin.queuedAt <= message.timestamp)
                    origins.insert(origin)
                    routed[parsed.video, default: 0] += 1
                }
            }
            #expect(origins.count == 600)  // each original once, with its own id
            #expect(routed == Dictionary(plays.map { ($0, 1) }, uniquingKeysWith: +))
            #expect(await broker.stats().topic("plays.dead")?.messageCount == 2)
            // The metrics say what the counters say.
            try Self.expectMetrics(metrics, match: counters)
        }
    }

    static func expectMetrics(_ metrics: TestMetrics, match counters: PlayRouter.Counters) throws {
        let messages = try metrics.expectCounter(RouterMetrics.Name.messages).totalValue
        #expect(messages == Int64(counters.messages))
        for k in 0..<counters.perPartition.count {
            let routed = try metrics.expectCounter(RouterMetrics.Name.routed, [("partition", String(k))]).totalValue
            #expect(routed == Int64(counters.perPartition[k]))
        }
        let deadLetters = try metrics.expectCounter(RouterMetrics.Name.deadLetters).totalValue
        #expect(deadLetters == Int64(counters.deadLettered))
        let publishes = try metrics.expectTimer(RouterMetrics.Name.publishDuration).values.count
        #expect(publishes == counters.batches)
    }

    @Test func anOriginalWhoseCopyIsRefusedIsRequeuedNotFinished() async throws {
        try await Support.withBroker { broker in
            try await broker.publish(topic: "plays", bodies: [ByteBuffer(string: #"{"video_id": "\#(Self.videos[0])"}"#)])
            // Copies go to an address where no nsqd listens: every MPUB fails.
            let router = Self.router(broker: broker, producerAddress: "127.0.0.1:1")
            let running = Task { try await router.run() }
            try await Support.waitUntil("the original requeued twice") { router.counters.requeued >= 2 }
            let channel = await broker.stats().topic("plays")?.channel("router")
            #expect((channel?.requeueCount ?? 0) >= 2)
            #expect(router.counters.routed == 0)
            await router.stop()
            try await running.value
            // Still on nsqd, for the next router.
            let left = await broker.stats().topic("plays")?.channel("router")
            #expect((left?.depth ?? 0) + (left?.deferredCount ?? 0) + (left?.inFlightCount ?? 0) == 1)
        }
    }
}

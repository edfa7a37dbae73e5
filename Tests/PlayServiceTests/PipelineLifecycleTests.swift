import Logging
import NIOCore
import NSQ
import NSQBroker
import PlayCounts
import PlayState
import Testing

@testable import PlayService
import Locking

/// The pipeline's services in their `ServiceGroup`: a stop goes consumer → ingest → publisher → client, so
/// every play read is counted and published before the client is released.
@Suite struct PipelineLifecycleTests {
    static let heldVideo = "0f8fad5b-d9cb-469f-a165-70867728950e"
    static let realtimeVideo = "7c9e6679-7425-40de-944b-e07fc1f90ae7"

    /// What the client saw, in order: each call's counts, then its release.
    final class EventClient: PublishClient {
        enum Event: Equatable {
            case call([String: Int])
            case shutdown
        }

        let events = Locked<[Event]>([])
        var description: String { "events" }

        func publish(_ call: PublishCall) async throws {
            let counts = Dictionary(call.counts.map { ($0.video.description, $0.plays) }, uniquingKeysWith: max)
            events.withLock { $0.append(.call(counts)) }
        }

        func shutdown() async { events.withLock { $0.append(.shutdown) } }
    }

    static func pipeline(broker: NSQBroker, client: EventClient) throws -> PlayPipeline {
        let address = "127.0.0.1:\(broker.tcpPort ?? 0)"
        let consumer = NSQConsumerConfiguration(
            topic: "plays", channel: "lifecycle", nsqdTCPAddresses: [address], maxInFlight: 200)
        // Held plays wait for a deadline an hour away: only the stop's final publish can send them.
        let policy = PublishPolicyConfiguration(realtimeThreshold: 100, maxStaleness: 3_600_000_000_000)
        return PlayPipeline(
            PlayPipeline.Configuration(
                consumer: consumer, processor: PlayProcessorConfiguration(policy: policy), client: client,
                receiptFile: nil, store: try PlayStateStore(path: PlayStateStore.inMemoryPath),
                deadLetters: DeadLetterSink(topic: "plays.dead") { NSQProducer(address: address) },
                logger: Logger(label: "test")))
    }

    static func withBroker(_ body: (NSQBroker) async throws -> Void) async throws {
        let broker = NSQBroker(configuration: NSQBrokerConfiguration(host: "127.0.0.1", tcpPort: 0, httpPort: 0))
        try await broker.start()
        do {
            try await body(broker)
            try await broker.stop()
        } catch {
            try? await broker.stop()
            throw error
        }
    }

    static func waitUntil(_ what: String, _ condition: () async -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            if await condition() { return }
            try await Task.sleep(for: .milliseconds(10))
        }
        Issue.record("timed out waiting for \(what)")
    }

    @Test func stopPublishesEverythingHeldBeforeTheClientIsReleased() async throws {
        try await Self.withBroker { broker in
            let producer = NSQProducer(address: "127.0.0.1:\(broker.tcpPort ?? 0)")
            let bodies = Array(repeating: #"{"video_id": "\#(Self.heldVideo)"}"#, count: 150)
                + [#"{"video_id": "\#(Self.realtimeVideo)"}"#]
            try await producer.publishBatched(topic: "plays", bodies: bodies.map { ByteBuffer(string: $0) })
            await producer.close()

            let client = EventClient()
            let pipeline = try Self.pipeline(broker: broker, client: client)
            try await pipeline.start()
            try await Self.waitUntil("every play counted") { await pipeline.processor.stats().plays == 151 }
            #expect(!pipeline.hasStopped)
            // The held video's plays past 100 are not yet out: its deadline is an hour away.
            #expect(!client.events.current.contains(.call([Self.heldVideo: 150])))

            await pipeline.stop()

            #expect(pipeline.hasStopped)
            let events = client.events.current
            #expect(events.last == .shutdown)
            #expect(events.filter { $0 == .shutdown }.count == 1)
            var last: [String: Int] = [:]
            for case .call(let counts) in events { last.merge(counts) { _, new in new } }
            #expect(last == [Self.heldVideo: 150, Self.realtimeVideo: 1])
        }
    }

    @Test func waitUntilStoppedReturnsWhenStoppedAndWhenCancelled() async throws {
        try await Self.withBroker { broker in
            let pipeline = try Self.pipeline(broker: broker, client: EventClient())
            try await pipeline.start()
            let waiter = Task { await pipeline.waitUntilStopped() }
            waiter.cancel()
            await waiter.value  // returns although the pipeline runs on
            #expect(!pipeline.hasStopped)

            let stopped = Task { await pipeline.waitUntilStopped() }
            await pipeline.stop()
            await stopped.value
            #expect(pipeline.hasStopped)
        }
    }
}

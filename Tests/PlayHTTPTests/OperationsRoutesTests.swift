import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import NSQ
import NSQBroker
import PlayCounts
import PlayService
import PlayState
import Prometheus
import Testing

@testable import PlayHTTP

/// The endpoints' routes, on Hummingbird's in-process test client; the pipeline is a real one on an in-process
/// broker where readiness and metrics depend on it.
@Suite struct OperationsRoutesTests {
    /// A source with a fixed pipeline (or none) and fixed documents.
    struct FixedSource: OperationsSource {
        var pipeline: PlayPipeline?
        func runningPipeline() -> PlayPipeline? { pipeline }
        func latestPipeline() -> PlayPipeline? { pipeline }
        func statusJSON() async throws -> String { #"{"processor": "not started"}"# }
        func statsJSON() async throws -> String? { pipeline == nil ? nil : #"{"calls": 0}"# }
    }

    /// Refuses every call, as a webhook that is down.
    struct RefusingClient: PublishClient, ClassifiedPublishError {
        var description: String { "refusing" }
        var kind: PublishFailureKind { .connect }
        func publish(_ call: PublishCall) async throws { throw self }
    }

    struct CountingClient: PublishClient {
        var description: String { "counting" }
        func publish(_ call: PublishCall) async throws {}
    }

    static func application(
        source: FixedSource, registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()
    ) -> (some ApplicationProtocol, PipelineMetrics) {
        let metrics = PipelineMetrics(factory: PrometheusMetricsFactory.playcount(registry: registry))
        let router = Router()
        OperationsRoutes.add(to: router, registry: registry, metrics: metrics, source: source)
        return (Application(router: router), metrics)
    }

    static func body(_ response: TestResponse) -> String { String(buffer: response.body) }

    @Test func withoutAPipelineItIsAliveButNotReady() async throws {
        let (app, _) = Self.application(source: FixedSource())
        try await app.test(.router) { client in
            try await client.execute(uri: "/healthz", method: .get) { response in
                #expect(response.status == .ok)
                #expect(Self.body(response) == "ok\n")
            }
            try await client.execute(uri: "/readyz", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
                #expect(Self.body(response).contains("the processor is not running"))
            }
            try await client.execute(uri: "/stats", method: .get) { response in
                #expect(response.status == .notFound)
            }
            try await client.execute(uri: "/status", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "application/json")
                #expect(Self.body(response) == "{\"processor\": \"not started\"}\n")
            }
            try await client.execute(uri: "/metrics", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType]?.hasPrefix("text/plain; version=0.0.4") == true)
                let text = Self.body(response)
                #expect(text.contains("# TYPE playcount_plays_total counter\nplaycount_plays_total 0\n"))
                #expect(text.contains("playcount_processor_running 0"))
                #expect(text.contains(#"playcount_dead_letters_total{reason="not_json"} 0"#))
            }
            try await client.execute(uri: "/nothing", method: .get) { response in
                #expect(response.status == .notFound)
            }
        }
    }

    @Test func readyWhileRunningNotWhileTheClientFailsAndMetricsCountThePlays() async throws {
        let broker = NSQBroker(configuration: NSQBrokerConfiguration(host: "127.0.0.1", tcpPort: 0, httpPort: 0))
        try await broker.start()
        defer { Task { try? await broker.stop() } }
        let address = "127.0.0.1:\(broker.tcpPort ?? 0)"
        let registry = PrometheusCollectorRegistry()
        let metrics = PipelineMetrics(factory: PrometheusMetricsFactory.playcount(registry: registry))
        func pipeline(client: any PublishClient, channel: String) throws -> PlayPipeline {
            var configuration = PlayPipeline.Configuration(
                consumer: NSQConsumerConfiguration(
                    topic: "plays", channel: channel, nsqdTCPAddresses: [address], maxInFlight: 100),
                processor: PlayProcessorConfiguration(retry: RetryBackoff(initial: 50_000_000, maximum: 50_000_000)),
                client: client, receiptFile: nil, store: try PlayStateStore(path: PlayStateStore.inMemoryPath),
                deadLetters: DeadLetterSink(topic: "plays.dead") { NSQProducer(address: address) },
                logger: Logger(label: "test"))
            configuration.metrics = metrics
            return PlayPipeline(configuration)
        }
        let producer = NSQProducer(address: address)
        defer { Task { await producer.close() } }
        let body = ByteBuffer(string: #"{"video_id": "0f8fad5b-d9cb-469f-a165-70867728950e"}"#)

        let healthy = try pipeline(client: CountingClient(), channel: "healthy")
        try await healthy.start()
        #expect(await PipelineReadiness.check(healthy).reasons == [])
        try await producer.publishBatched(topic: "plays", bodies: Array(repeating: body, count: 30))
        try await waitUntil("30 plays counted and published") {
            let status = await healthy.processor.status()
            return status.receivedPlays == 30 && status.pendingCalls == 0 && status.heldVideos == 0
        }
        // FINs reach the connection's event loop after the plays reach the processor.
        try await waitUntil("30 FINs counted") {
            registry.emitToString().contains("playcount_nsq_messages_finished_total 30\n")
        }
        let stats = await healthy.processor.stats()
        let router = Router()
        OperationsRoutes.add(to: router, registry: registry, metrics: metrics, source: FixedSource(pipeline: healthy))
        try await Application(router: router).test(.router) { client in
            try await client.execute(uri: "/readyz", method: .get) { response in
                #expect(response.status == .ok)
            }
            try await client.execute(uri: "/metrics", method: .get) { response in
                let text = Self.body(response)
                #expect(text.contains("playcount_plays_total 30\n"))
                #expect(stats.calls >= 1)
                #expect(text.contains("playcount_calls_total \(stats.calls)\n"))
                #expect(text.contains("playcount_nsq_messages_finished_total 30\n"))
                #expect(text.contains("playcount_call_videos_count \(stats.calls)\n"))
                #expect(text.contains("playcount_processor_running 1.0\n"))
                #expect(text.contains(#"playcount_nsq_connections{state="subscribed"} 1.0"#))
            }
        }
        await healthy.stop()
        #expect(await PipelineReadiness.check(healthy).reasons == ["the processor is not running"])

        let refused = try pipeline(client: RefusingClient(), channel: "refused")
        try await refused.start()
        try await producer.publishBatched(topic: "plays", bodies: [body])
        try await waitUntil("a refused call") { await refused.processor.status().consecutiveFailures > 0 }
        let readiness = await PipelineReadiness.check(refused)
        #expect(readiness.reasons.count == 1)
        #expect(readiness.reasons.first?.hasPrefix("client refusing failing") == true)
        let text = registry.emitToString()
        #expect(text.contains(#"playcount_client_errors_total{kind="connect"}"#))
        #expect(!text.contains(#"playcount_client_errors_total{kind="connect"} 0"#))
        let stopping = Task { await refused.stop() }
        stopping.cancel()  // a client that never accepts: give up on the final publish
        await stopping.value
    }

    func waitUntil(_ what: String, _ condition: () async -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            if await condition() { return }
            try await Task.sleep(for: .milliseconds(10))
        }
        Issue.record("timed out waiting for \(what)")
    }
}

import CoreMetrics
import MetricsTestKit
import Testing
@testable import PlayCounts

@Suite("ProcessorMetrics")
struct ProcessorMetricsTests {
    @Test("the metrics report what the stats count: plays, calls, refusals, latencies and staleness")
    func metricsFollowStats() async throws {
        let metrics = TestMetrics()
        let clock = ManualWallClock()
        let client = InMemoryPublishClient(failures: 1)
        let processor = PlayProcessor(
            client: client, clock: clock,
            configuration: PlayProcessorConfiguration(retry: RetryBackoff(initial: 0, maximum: 0)),
            metrics: ProcessorMetrics(factory: metrics))
        let queued = clock.now() - 2_000_000
        // 25 realtime videos (two calls), one late play (read past its deadline), 3 invalid messages.
        await processor.receive(plays((1...25).map(video), queuedAt: queued, receivedAt: clock.now()), invalidMessages: 3)
        let late = queued - 120_000_000_000
        await processor.receive([Play(video: video(1), queuedAt: late, receivedAt: clock.now())])
        // The second read retries the refused call (no backoff) with the late play in it, then the other 5.
        let stats = await processor.stats()
        #expect(stats.calls == 2 && stats.failedAttempts == 1 && stats.latePlays == 1)

        typealias Name = ProcessorMetrics.Name
        #expect(metrics.counterTotal(label: Name.plays) == Int64(stats.plays))
        #expect(metrics.counterTotal(label: Name.messages) == Int64(stats.messages))
        #expect(metrics.counterTotal(label: Name.invalidMessages) == 3)
        #expect(metrics.counterTotal(label: Name.realtimePlays) == Int64(stats.realtimePlays))
        #expect(metrics.counterTotal(label: Name.latePlays) == 1)
        #expect(metrics.counterTotal(label: Name.stalePlays) == Int64(stats.stalePlays))
        #expect(metrics.counterTotal(label: Name.calls) == Int64(stats.calls))
        #expect(metrics.counterTotal(label: Name.failedAttempts) == 1)
        let videosPerCall = try metrics.expectRecorder(Name.videosPerCall)
        #expect(videosPerCall.values.count == stats.calls)
        #expect(videosPerCall.values.reduce(0, +) == Double(stats.videosPublished))
        let fromQueue = try metrics.expectTimer(Name.realtimeLatencyFromQueue)
        #expect(fromQueue.values.count == stats.realtimeLatencyFromQueue.count)
        #expect(fromQueue.values.max() == Int64(stats.realtimeLatencyFromQueue.maxMs * 1e6))
        #expect(try metrics.expectTimer(Name.realtimeLatencyFromReceive).values.count == stats.realtimePlays)
        let staleness = try metrics.expectTimer(Name.stalenessAtPublish)
        #expect(staleness.values.count == stats.plays)
        #expect(staleness.values.max() == Int64(stats.worstStalenessMs * 1e6))
    }

    @Test("reading stats while plays await a call reports nothing twice")
    func statsSnapshotReportsNothing() async throws {
        let metrics = TestMetrics()
        let clock = ManualWallClock()
        let client = GatedPublishClient()
        let processor = PlayProcessor(client: client, clock: clock, metrics: ProcessorMetrics(factory: metrics))
        await processor.accept(plays([video(1)], queuedAt: clock.now()))
        let first = Task { await processor.publishPending() }
        #expect(await eventually { await client.isHolding })
        // Read while the first call is with the client: these wait for the next call.
        await processor.accept(plays([video(2), video(3)], queuedAt: clock.now()))
        for _ in 0..<3 { _ = await processor.stats() }
        #expect(metrics.counterTotal(label: ProcessorMetrics.Name.plays) == 3)
        #expect(metrics.counterTotal(label: ProcessorMetrics.Name.realtimePlays) == 1)
        await client.release()
        await first.value
        await processor.publishPending()
        #expect(metrics.counterTotal(label: ProcessorMetrics.Name.realtimePlays) == 3)
        #expect(metrics.counterTotal(label: ProcessorMetrics.Name.calls) == 2)
    }
}

import Foundation
import Testing
@testable import PlayCounts
@testable import PlayLoad

@Suite("PlayProcessor over simulated traces")
struct ProcessorTraceTests {
    /// Feeds `trace` to a processor on a manual clock, publishing held videos at each deadline via `tick()`,
    /// then runs on until nothing is held.
    func drive(_ trace: [TraceBatch], processor: PlayProcessor, clock: ManualWallClock) async {
        for batch in trace {
            while let deadline = await processor.status().nextDeadline, deadline <= batch.readAt {
                clock.advance(to: deadline)
                await processor.tick()
            }
            clock.advance(to: batch.readAt)
            await processor.receive(batch.plays)
        }
        while let deadline = await processor.status().nextDeadline {
            clock.advance(to: deadline)
            await processor.tick()
        }
    }

    @Test("with a healthy client the processor makes exactly the pure policy's calls", arguments: [11, 12, 13])
    func matchesThePolicy(seed: Int) async {
        let configuration = PublishPolicyConfiguration(realtimeThreshold: 20)
        let trace = SyntheticTrace.live(
            seed: UInt64(seed), videos: ZipfVideos(count: 60, exponent: 1.1), rate: 30, duration: 400,
            readInterval: 0.05, start: t0)
        let clock = ManualWallClock(now: t0)
        let client = InMemoryPublishClient()
        let processor = PlayProcessor(
            client: client, clock: clock, configuration: PlayProcessorConfiguration(policy: configuration))
        await drive(trace, processor: processor, clock: clock)
        let expected = PolicySimulation.run(trace, configuration: configuration)
        let calls = await client.calls
        #expect(calls == expected.calls)
        let stats = await processor.stats()
        #expect(stats.lowerBound == expected.bound.value)
        #expect(stats.calls == calls.count)
        #expect(await processor.counts() == expected.policy.allCounts)
    }

    @Test("with a client that keeps failing and recovering, rules 3 and 4 and the final counts still hold",
        arguments: [21, 22])
    func flakyClient(seed: Int) async {
        let configuration = PublishPolicyConfiguration(realtimeThreshold: 20)
        let trace = SyntheticTrace.live(
            seed: UInt64(seed), videos: ZipfVideos(count: 60, exponent: 1.1), rate: 30, duration: 300,
            readInterval: 0.05, start: t0)
        let clock = ManualWallClock(now: t0)
        let client = InMemoryPublishClient()
        let processor = PlayProcessor(
            client: client, clock: clock,
            configuration: PlayProcessorConfiguration(
                policy: configuration, retry: RetryBackoff(initial: 20_000_000, maximum: 200_000_000)))
        var generator = SplitMix64(seed: UInt64(seed))
        for (index, batch) in trace.enumerated() {
            if index % 50 == 0 { await client.failNext(Int.random(in: 1...4, using: &generator)) }
            // Deadlines and retries due before this read.
            while true {
                let status = await processor.status()
                guard let next = [status.nextDeadline, status.retryAt].compactMap({ $0 }).min(), next <= batch.readAt
                else { break }
                clock.advance(to: next)
                await processor.tick()
            }
            clock.advance(to: batch.readAt)
            await processor.receive(batch.plays)
        }
        await client.failNext(2)
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await processor.stop() }
            // stop() sleeps through the retry backoffs on the manual clock.
            while true {
                let status = await processor.status()
                if status.pendingCalls == 0, status.heldVideos == 0 { break }
                if let wake = clock.nextSleeperDeadline { clock.advance(to: wake) }
                await Task.yield()
            }
            await group.waitForAll()
        }
        let calls = await client.calls
        #expect(calls.map(\.sequence) == Array(1...calls.count))
        let receipts = trace.enumerated().flatMap { index, batch in
            batch.plays.map {
                ReceiptRecord(atMs: 0, video: $0.video, queuedAt: $0.queuedAt, receivedAt: $0.receivedAt, batch: index + 1)
            }
        }
        let violations = PublishAudit.check(receipts: receipts, calls: calls, configuration: configuration)
        let structural = violations.filter { [.callTooLarge, .unchangedCount, .countDecreased, .finalCountMismatch].contains($0.rule) }
        #expect(structural.isEmpty, "\(structural.prefix(5))")
        let stats = await processor.stats()
        #expect(stats.failedAttempts > 0)
        #expect(stats.calls == calls.count)
        #expect(await client.attempts.count == calls.count + stats.failedAttempts)
    }

    @Test("on the system clock, run() publishes a held video by its deadline")
    func systemClock() async {
        let configuration = PublishPolicyConfiguration(
            realtimeThreshold: 0, maxStaleness: 300_000_000, safetyMargin: 100_000_000)
        let clock = SystemWallClock()
        let client = InMemoryPublishClient()
        let processor = PlayProcessor(
            client: client, clock: clock, configuration: PlayProcessorConfiguration(policy: configuration))
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await processor.run() }
            let queued = clock.now()
            await processor.receive(plays([video(1)], queuedAt: queued))
            #expect(await eventually { await client.calls.count == 1 })
            if let call = await client.calls.first {
                #expect(call.publishedAt >= queued + 200_000_000)
            }
            group.cancelAll()
        }
    }
}

import Foundation
import Testing
@testable import PlayCounts

/// Records every call; refuses the next `failures` attempts.
actor InMemoryPublishClient: PublishClient {
    struct Refused: Error, CustomStringConvertible {
        var description: String { "refused by test" }
    }

    private(set) var calls: [PublishCall] = []
    private(set) var attempts: [PublishCall] = []
    private var failures: Int

    init(failures: Int = 0) {
        self.failures = failures
    }

    nonisolated var description: String { "memory" }

    func publish(_ call: PublishCall) async throws {
        attempts.append(call)
        if failures > 0 {
            failures -= 1
            throw Refused()
        }
        calls.append(call)
    }

    func failNext(_ count: Int) { failures = count }
}

/// Holds the first call until `release()`: a client slow to answer.
actor GatedPublishClient: PublishClient {
    private(set) var calls: [PublishCall] = []
    private var gate: CheckedContinuation<Void, Never>?
    private var released = false

    nonisolated var description: String { "gated" }

    func publish(_ call: PublishCall) async throws {
        calls.append(call)
        if !released { await withCheckedContinuation { gate = $0 } }
    }

    /// True while the first call waits for `release()`.
    var isHolding: Bool { gate != nil }

    func release() {
        released = true
        gate?.resume()
        gate = nil
    }
}

/// Collects receipt log chunks.
final class ReceiptCollector: @unchecked Sendable {
    private let lock = NSLock()
    private var chunks: [String] = []
    func append(_ chunk: String) { lock.withLock { chunks.append(chunk) } }
    var text: String { lock.withLock { chunks.joined() } }
}

/// Waits (in real time, at most `timeout` seconds) until `condition` holds. The timeout is generous because
/// CPU-bound simulation tests running in parallel can starve the cooperative pool for a while.
func eventually(timeout: Double = 120, _ condition: () async -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + .seconds(timeout)
    while ContinuousClock.now < deadline {
        if await condition() { return true }
        try? await Task.sleep(for: .milliseconds(2))
    }
    return await condition()
}

@Suite("PlayProcessor")
struct ProcessorTests {
    let policy = PublishPolicyConfiguration()
    var heldFor: WallNanoseconds { policy.maxStaleness - policy.safetyMargin }

    func makePlays(_ videos: [VideoID], clock: ManualWallClock) -> [Play] {
        plays(videos, queuedAt: clock.now() - 1_000_000, receivedAt: clock.now())
    }

    @Test("realtime plays are delivered before receive returns, with sequence numbers 1, 2, 3")
    func realtimeDelivery() async {
        let clock = ManualWallClock()
        let client = InMemoryPublishClient()
        let processor = PlayProcessor(client: client, clock: clock)
        await processor.receive(makePlays((1...25).map(video), clock: clock), invalidMessages: 2)
        await processor.receive(makePlays([video(1)], clock: clock))
        let calls = await client.calls
        #expect(calls.map(\.sequence) == [1, 2, 3])
        #expect(calls.map(\.counts.count) == [20, 5, 1])
        #expect(calls[2].counts == [VideoCount(video: video(1), plays: 2)])
        #expect(calls.allSatisfy { $0.publishedAt == clock.now() })
        let counts = await processor.counts()
        #expect(counts[video(1)] == 2)
        #expect(counts.count == 25)
        let stats = await processor.stats()
        #expect(stats.messages == 28)
        #expect(stats.invalidMessages == 2)
        #expect(stats.calls == 3)
        #expect(stats.realtimeLatencyFromReceive.count == 26)
        let status = await processor.status()
        #expect(status.calls == 3)
        #expect(status.readBatches == 2)
        #expect(status.heldVideos == 0)
        #expect(status.clientHealthy)
    }

    @Test("run() publishes a held video at its deadline, not before")
    func heldVideoAtDeadline() async {
        let clock = ManualWallClock()
        let client = InMemoryPublishClient()
        let processor = PlayProcessor(
            client: client, clock: clock,
            configuration: PlayProcessorConfiguration(policy: PublishPolicyConfiguration(realtimeThreshold: 0)))
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await processor.run() }
            let queued = clock.now()
            await processor.receive(plays([video(1), video(2)], queuedAt: queued))
            #expect(await client.calls.isEmpty)
            #expect(await eventually { clock.nextSleeperDeadline == queued + heldFor })
            clock.advance(to: queued + heldFor - 1)
            try? await Task.sleep(for: .milliseconds(20))
            #expect(await client.calls.isEmpty)
            clock.advance(to: queued + heldFor)
            #expect(await eventually { await client.calls.count == 1 })
            let call = await client.calls.first
            #expect(call?.publishedAt == queued + heldFor)
            #expect(call?.counts.count == 2)
            await processor.waitUntilDrained()
            #expect(await processor.status().heldVideos == 0)
            group.cancelAll()
        }
        #expect(await processor.status().running == false)
    }

    @Test("a new earliest deadline re-arms the sleeping timer")
    func timerRearms() async {
        let clock = ManualWallClock()
        let client = InMemoryPublishClient()
        let processor = PlayProcessor(
            client: client, clock: clock,
            configuration: PlayProcessorConfiguration(policy: PublishPolicyConfiguration(realtimeThreshold: 0)))
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await processor.run() }
            #expect(await eventually { await processor.status().running })
            let now = clock.now()
            await processor.receive(plays([video(1)], queuedAt: now - 30 * second, receivedAt: now))
            #expect(await eventually { clock.nextSleeperDeadline == now - 30 * second + heldFor })
            clock.advance(to: now - 30 * second + heldFor)
            #expect(await eventually { await client.calls.count == 1 })
            group.cancelAll()
        }
    }

    @Test("a refused call is retried with backoff, keeps its sequence number and carries the newest counts")
    func retryMergesCounts() async {
        let clock = ManualWallClock()
        let client = InMemoryPublishClient(failures: 2)
        let retry = RetryBackoff(initial: 100_000_000, multiplier: 2, maximum: 1_000_000_000)
        let processor = PlayProcessor(
            client: client, clock: clock, configuration: PlayProcessorConfiguration(retry: retry))
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await processor.run() }
            let start = clock.now()
            await processor.receive(makePlays([video(1), video(2)], clock: clock))
            var status = await processor.status()
            #expect(status.consecutiveFailures == 1)
            #expect(status.lastError == "refused by test")
            #expect(status.retryAt == start + 100_000_000)
            #expect(status.pendingCalls == 1)
            // Read while the client is down: queued behind the refused call, not attempted.
            await processor.receive(makePlays([video(1), video(3)], clock: clock))
            #expect(await client.attempts.count == 1)
            #expect(await eventually { clock.nextSleeperDeadline == start + 100_000_000 })
            clock.advance(by: 100_000_000)
            #expect(await eventually { await client.attempts.count == 2 })
            #expect(await eventually { await processor.status().retryAt == start + 100_000_000 + 200_000_000 })
            #expect(await eventually { clock.nextSleeperDeadline == start + 300_000_000 })
            clock.advance(by: 200_000_000)
            #expect(await eventually { await client.calls.count == 2 })
            let calls = await client.calls
            // Call 1 was retried with the current counts (video 1 now at 2); call 2 keeps only video 3.
            #expect(calls[0].sequence == 1)
            #expect(Set(calls[0].counts) == [VideoCount(video: video(1), plays: 2), VideoCount(video: video(2), plays: 1)])
            #expect(calls[0].publishedAt == start + 300_000_000)
            #expect(calls[1].sequence == 2)
            #expect(calls[1].counts == [VideoCount(video: video(3), plays: 1)])
            status = await processor.status()
            #expect(status.consecutiveFailures == 0)
            #expect(status.clientHealthy)
            #expect(status.lastError == "refused by test")
            let stats = await processor.stats()
            #expect(stats.failedAttempts == 2)
            #expect(stats.calls == 2)
            let audit = PublishAudit.check(
                receipts: [
                    ReceiptRecord(atMs: 0, video: video(1), queuedAt: start, receivedAt: start, batch: 1),
                    ReceiptRecord(atMs: 0, video: video(2), queuedAt: start, receivedAt: start, batch: 1),
                    ReceiptRecord(atMs: 0, video: video(1), queuedAt: start, receivedAt: start, batch: 2),
                    ReceiptRecord(atMs: 0, video: video(3), queuedAt: start, receivedAt: start, batch: 2),
                ], calls: calls)
            #expect(audit.isEmpty, "\(audit)")
            group.cancelAll()
        }
    }

    @Test("stop() publishes everything held and ends run()")
    func stopPublishesHeld() async {
        let clock = ManualWallClock()
        let client = InMemoryPublishClient()
        let processor = PlayProcessor(
            client: client, clock: clock,
            configuration: PlayProcessorConfiguration(policy: PublishPolicyConfiguration(realtimeThreshold: 0)))
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await processor.run() }
            await processor.receive(makePlays((1...30).map(video), clock: clock))
            #expect(await processor.status().heldVideos == 30)
            await processor.stop()
            let calls = await client.calls
            #expect(calls.map(\.counts.count) == [20, 10])
            #expect(await processor.status().heldVideos == 0)
            await group.waitForAll()  // run() returns by itself
        }
        #expect(await processor.status().running == false)
        await processor.waitUntilDrained()
    }

    @Test("flush() delivers through client failures")
    func flushRetries() async {
        let clock = ManualWallClock()
        let client = InMemoryPublishClient()
        let processor = PlayProcessor(
            client: client, clock: clock,
            configuration: PlayProcessorConfiguration(policy: PublishPolicyConfiguration(realtimeThreshold: 0)))
        await processor.receive(makePlays([video(1)], clock: clock))
        await client.failNext(1)
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await processor.flush() }
            #expect(await eventually { clock.sleeperCount == 1 })
            clock.advance(by: second)
            await group.waitForAll()
        }
        #expect(await client.calls.map(\.counts) == [[VideoCount(video: video(1), plays: 1)]])
        #expect(await client.attempts.count == 2)
    }

    @Test("the receipt log records every play with its batch and time")
    func receiptLog() async throws {
        let clock = ManualWallClock()
        let collector = ReceiptCollector()
        let processor = PlayProcessor(
            client: InMemoryPublishClient(), clock: clock, receiptSink: { collector.append($0) })
        await processor.receive(makePlays([video(1), video(2)], clock: clock))
        clock.advance(by: 1_500_000_000)
        await processor.receive(makePlays([video(1)], clock: clock))
        let records = try ReceiptLog.parse(text: collector.text)
        #expect(records.map(\.batch) == [1, 1, 2])
        #expect(records.map(\.atMs) == [0, 0, 1_500])
        #expect(records.map(\.video) == [video(1), video(2), video(1)])
    }

    @Test("waitUntilDrained returns only when nothing is held and nothing is pending")
    func waitDrained() async {
        let clock = ManualWallClock()
        let client = InMemoryPublishClient()
        let processor = PlayProcessor(
            client: client, clock: clock,
            configuration: PlayProcessorConfiguration(policy: PublishPolicyConfiguration(realtimeThreshold: 0)))
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await processor.run() }
            await processor.receive(makePlays([video(1)], clock: clock))
            let drained = Task { await processor.waitUntilDrained() }
            #expect(await eventually { clock.sleeperCount == 1 })
            try? await Task.sleep(for: .milliseconds(20))
            #expect(await client.calls.isEmpty)
            clock.advance(by: heldFor)
            await drained.value
            #expect(await client.calls.count == 1)
            group.cancelAll()
        }
    }

    @Test("accepting plays never waits for a call in flight: newer counts merge into the next call, and the bound merges them too")
    func ingestDoesNotWaitForTheClient() async {
        let clock = ManualWallClock()
        let client = GatedPublishClient()
        let processor = PlayProcessor(client: client, clock: clock)
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await processor.run() }
            await processor.accept(makePlays([video(1)], clock: clock))
            await processor.publishSoon()
            #expect(await eventually { await client.isHolding })
            // The first call is in the client's hands: three more read batches are counted meanwhile.
            for _ in 0..<3 {
                await processor.accept(makePlays([video(1), video(2)], clock: clock))
                await processor.publishSoon()
            }
            #expect(await processor.counts() == [video(1): 4, video(2): 3])
            #expect(await client.calls.count == 1)
            #expect(await processor.status().pendingCalls == 2)
            await client.release()
            #expect(await eventually { await processor.status().pendingCalls == 0 })
            let calls = await client.calls
            #expect(calls.count == 2)
            #expect(calls.last.map { Dictionary(uniqueKeysWithValues: $0.counts.map { ($0.video, $0.plays) }) }
                == [video(1): 4, video(2): 3])
            // The three batches read during the first call count as one for the lower bound: no policy could
            // have called for each of them while the client was busy.
            let stats = await processor.stats()
            #expect(stats.calls == 2)
            #expect(stats.lowerBound == 2)
            group.cancelAll()
        }
    }
}

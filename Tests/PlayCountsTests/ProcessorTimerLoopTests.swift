import Foundation
import Testing
@testable import PlayCounts

/// Regression tests for `PlayProcessor.run()`'s timer loop: a wake-up signalled while the loop was not asleep
/// (during its own tick) used to be remembered, so every following sleep returned at once and the loop spun.
@Suite("PlayProcessor timer loop")
struct ProcessorTimerLoopTests {
    /// Every play held; one video per call, so a tick leaves the other held video (and a next deadline) behind.
    let policy = PublishPolicyConfiguration(realtimeThreshold: 0, maxVideosPerCall: 1)
    var heldFor: WallNanoseconds { policy.maxStaleness - policy.safetyMargin }

    /// Gives a spinning loop real chances to run (yields and short real sleeps, bounded) and returns the
    /// loop's pass count; stops early once `limit` is exceeded.
    func iterationsAfterChancesToSpin(_ processor: PlayProcessor, limit: Int) async -> Int {
        for _ in 0..<40 {
            for _ in 0..<10 { await Task.yield() }
            try? await Task.sleep(for: .milliseconds(2))
            if await processor.timerLoopIterations > limit { break }
        }
        return await processor.timerLoopIterations
    }

    @Test("a tick that leaves videos held does not make the loop spin while the clock stands still")
    func tickLeavingHeldVideosDoesNotSpin() async {
        let clock = ManualWallClock()
        let client = InMemoryPublishClient()
        let processor = PlayProcessor(
            client: client, clock: clock, configuration: PlayProcessorConfiguration(policy: policy))
        let now = clock.now()
        let firstDeadline = now - 10 * second + heldFor
        let secondDeadline = now + heldFor
        // Received before run() starts, so the loop's first pass already sleeps until the first deadline.
        await processor.receive(plays([video(1)], queuedAt: now - 10 * second, receivedAt: now))
        await processor.receive(plays([video(2)], queuedAt: now))
        #expect(await client.calls.isEmpty)
        #expect(await processor.status().heldVideos == 2)

        await withTaskGroup(of: Void.self) { group in
            group.addTask { await processor.run() }
            #expect(await eventually { clock.nextSleeperDeadline == firstDeadline })
            #expect(await processor.timerLoopIterations == 1)

            // Pass 1 wakes and ticks: video 1 goes out, video 2 stays held until the second deadline.
            clock.advance(to: firstDeadline)
            #expect(await eventually { await client.calls.count == 1 })
            #expect(await client.calls.first?.counts == [VideoCount(video: video(1), plays: 1)])
            #expect(await processor.status().heldVideos == 1)

            // The clock stands still from here: the loop must make one more pass (to sleep until the second
            // deadline) and then stay asleep. A spinning loop makes thousands of passes in this window.
            let iterations = await iterationsAfterChancesToSpin(processor, limit: 3)
            #expect(iterations <= 3, "timer loop made \(iterations) passes without the clock moving")
            #expect(await eventually { clock.nextSleeperDeadline == secondDeadline })
            #expect(clock.now() == firstDeadline)
            #expect(await client.calls.count == 1)

            // Still on time once the clock moves.
            clock.advance(to: secondDeadline)
            #expect(await eventually { await client.calls.count == 2 })
            #expect(await processor.timerLoopIterations <= 4)
            group.cancelAll()
        }
    }

    @Test("a call refused during a tick makes the loop sleep until the retry, without an extra pass")
    func refusalDuringTickDoesNotWakeTheLoopAgain() async {
        let clock = ManualWallClock()
        let client = InMemoryPublishClient(failures: 1)
        let retry = RetryBackoff(initial: 100_000_000, multiplier: 2, maximum: 1_000_000_000)
        let processor = PlayProcessor(
            client: client, clock: clock,
            configuration: PlayProcessorConfiguration(policy: PublishPolicyConfiguration(realtimeThreshold: 0), retry: retry))
        let now = clock.now()
        let deadline = now + PublishPolicyConfiguration(realtimeThreshold: 0).maxStaleness
            - PublishPolicyConfiguration(realtimeThreshold: 0).safetyMargin
        await processor.receive(plays([video(1)], queuedAt: now))

        await withTaskGroup(of: Void.self) { group in
            group.addTask { await processor.run() }
            #expect(await eventually { clock.nextSleeperDeadline == deadline })
            #expect(await processor.timerLoopIterations == 1)

            // Pass 1 ticks at the deadline; the call is refused, nothing stays held, a retry is due in 100 ms.
            clock.advance(to: deadline)
            #expect(await eventually { await processor.status().retryAt == deadline + 100_000_000 })
            #expect(await client.attempts.count == 1)

            // Exactly one more pass, sleeping until the retry: a wake-up remembered from the tick would add one.
            let iterations = await iterationsAfterChancesToSpin(processor, limit: 2)
            #expect(iterations == 2, "timer loop made \(iterations) passes; expected 2")
            #expect(await eventually { clock.nextSleeperDeadline == deadline + 100_000_000 })

            clock.advance(to: deadline + 100_000_000)
            #expect(await eventually { await client.calls.count == 1 })
            // The pass after the retry sleeps until notified: nothing is held or due.
            #expect(await eventually { await processor.timerLoopIterations >= 3 })
            #expect(await iterationsAfterChancesToSpin(processor, limit: 3) == 3)
            group.cancelAll()
        }
    }
}

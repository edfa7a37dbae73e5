import Foundation
import Testing
@testable import PlayCounts

/// Records journal events in order; can refuse the next `callStarted`.
final class RecordingJournal: CallJournal, @unchecked Sendable {
    struct Refused: Error {}
    private let lock = NSLock()
    private var log: [String] = []
    private var refusals: Int

    init(refusals: Int = 0) { self.refusals = refusals }

    func callStarted(_ call: PublishCall) throws {
        try lock.withLock {
            if refusals > 0 {
                refusals -= 1
                throw Refused()
            }
            log.append("started \(call.sequence)")
        }
    }

    func callAcknowledged(_ call: PublishCall) throws {
        lock.withLock { log.append("acknowledged \(call.sequence)") }
    }

    var events: [String] { lock.withLock { log } }
}

@Suite("Processor recovery")
struct ProcessorRecoveryTests {
    let configuration = PublishPolicyConfiguration()
    var holdFor: WallNanoseconds { configuration.maxStaleness - configuration.safetyMargin }
    let now: WallNanoseconds = 1_700_000_000_000_000_000

    @Test func heldVideoKeepsItsOriginalDeadline() {
        var policy = PublishPolicy(configuration: configuration)
        let earliest = now - 10_000_000_000
        let actions = policy.restore(
            [RestoredVideo(video: video(1), plays: 150, published: 120, earliestUnpublished: earliest)], now: now)
        #expect(actions.calls.isEmpty)
        #expect(actions.wakeAt == earliest + holdFor)
        #expect(policy.count(of: video(1)) == 150)
        #expect(policy.publishedCount(of: video(1)) == 120)
        #expect(policy.heldVideoCount == 1)
    }

    @Test func heldVideoPastItsDeadlineOrWithoutTimestampIsDueAtOnce() {
        var policy = PublishPolicy(configuration: configuration)
        let actions = policy.restore([
            RestoredVideo(video: video(1), plays: 150, published: 120, earliestUnpublished: now - 70_000_000_000),
            RestoredVideo(video: video(2), plays: 300, published: 200, earliestUnpublished: nil),
        ], now: now)
        #expect(actions.calls == [[VideoCount(video: video(1), plays: 150), VideoCount(video: video(2), plays: 300)]])
        #expect(policy.heldVideoCount == 0)
    }

    @Test func realtimeVideoGoesAtOnceAndPublishedVideosStayQuiet() {
        var policy = PublishPolicy(configuration: configuration)
        let actions = policy.restore([
            RestoredVideo(video: video(1), plays: 5, published: 3, earliestUnpublished: now - 1_000),
            // Crossed the threshold unpublished: its first unpublished play was realtime.
            RestoredVideo(video: video(2), plays: 120, published: 90, earliestUnpublished: now - 1_000),
            RestoredVideo(video: video(3), plays: 500, published: 500, earliestUnpublished: nil),
        ], now: now)
        #expect(actions.calls == [[VideoCount(video: video(1), plays: 5), VideoCount(video: video(2), plays: 120)]])
        #expect(actions.wakeAt == nil)
        // Rule 4 still holds for the restored video: one more play is a change, none is not.
        #expect(policy.publishedCount(of: video(3)) == 500)
        let next = policy.receive(plays([video(3)], queuedAt: now, receivedAt: now), now: now)
        #expect(next.calls.isEmpty)
        #expect(next.wakeAt == now + holdFor)
    }

    @Test func pendingCallIsResentFirstWithItsSequenceAndCurrentCounts() async {
        let clock = ManualWallClock(now: now)
        let client = InMemoryPublishClient()
        let journal = RecordingJournal()
        let processor = PlayProcessor(client: client, clock: clock, journal: journal)
        let pending = PublishCall(sequence: 7, publishedAt: now - 5, counts: [VideoCount(video: video(1), plays: 50)])
        await processor.restore([
            RestoredVideo(video: video(1), plays: 55, published: 40, earliestUnpublished: now - 1_000),
            RestoredVideo(video: video(2), plays: 10, published: 10, earliestUnpublished: nil),
        ], pendingCall: pending, nextSequence: 8)
        await processor.publishPending()
        #expect(await client.calls.map(\.sequence) == [7])
        #expect(await client.calls.first?.counts == [VideoCount(video: video(1), plays: 55)])

        await processor.receive(plays([video(2)], queuedAt: now, receivedAt: now))
        #expect(await client.calls.map(\.sequence) == [7, 8])
        #expect(await client.calls.last?.counts == [VideoCount(video: video(2), plays: 11)])
        #expect(journal.events == ["started 7", "acknowledged 7", "started 8", "acknowledged 8"])
        #expect(await processor.counts()[video(1)] == 55)
    }

    @Test func refusedJournalEntryDelaysTheCallLikeARefusedClient() async {
        let clock = ManualWallClock(now: now)
        let client = InMemoryPublishClient()
        let journal = RecordingJournal(refusals: 1)
        let processor = PlayProcessor(client: client, clock: clock, journal: journal)
        await processor.receive(plays([video(1)], queuedAt: now, receivedAt: now))
        #expect(await client.attempts.isEmpty)
        #expect(await processor.status().consecutiveFailures == 1)
        clock.advance(by: 60_000_000_000)  // past any retry backoff
        await processor.tick()
        #expect(await client.calls.map(\.sequence) == [1])
        #expect(journal.events == ["started 1", "acknowledged 1"])
    }
}

import NIOCore
import NSQ
import PlayCounts
import PlayState
import Testing

@testable import PlayService

/// Ingest of plays a router copied to a partition topic (``RoutedPlayBody``): counted under the original's key
/// and queue time, so a router that crashed after its MPUB, and routed the redelivered original again, cannot
/// make the owner count the play twice.
@Suite struct RoutedIngestTests {
    typealias Base = IngestExactlyOnceTests
    static let originQueuedAt = Base.t0 - 5_000_000_000
    static let originID = NSQMessageID("0123456789abcdef")!

    /// A copy on the partition topic: its own id `n` (and timestamp), the original's in the body.
    static func copy(_ n: UInt64, originAttempts: Int = 1, attempts: UInt16 = 1, video: String = Base.videoA) -> NSQMessage {
        let origin = PlayOrigin(queuedAt: originQueuedAt, idHigh: originID.high, idLow: originID.low, attempts: originAttempts)
        let body = String(decoding: RoutedPlayBody.encode(VideoID(video)!, origin: origin), as: UTF8.self)
        return Base.message(n, body: body, attempts: attempts)
    }

    static let originKey = MessageKey(id: originID, timestamp: originQueuedAt)

    @Test func aRoutedPlayCountsUnderItsOriginalKeyAndQueueTime() async throws {
        let effects = RecordingEffects()
        let outcome = await Base.ingest([[Self.copy(1)]], effects: effects)

        #expect(outcome.plays.count == 1)
        let commit = try #require(effects.commits.first)
        #expect(commit.messages == [Self.originKey])
        #expect(commit.earliestUnpublished[VideoID(Base.videoA)!] == Self.originQueuedAt)
        #expect(outcome.plays.videos.first?.earliestQueuedAt == Self.originQueuedAt)
        // A first routing (origin attempts 1) of a first delivery cannot repeat anything: no lookup.
        #expect(effects.askedAbout.isEmpty)
        #expect(effects.finished == [MessageRef(delivery: 0, message: 0)])
    }

    @Test func aSecondRoutingOfACountedOriginalIsFinishedWithoutCounting() async throws {
        // The router crashed after its MPUB: nsqd sent it the original again (attempts 2), and it routed a new
        // copy, a fresh message (attempts 1) on the partition topic.
        let effects = RecordingEffects(committed: [Self.originKey])
        let outcome = await Base.ingest([[Self.copy(2, originAttempts: 2)]], effects: effects)

        #expect(outcome.plays.count == 0)
        #expect(outcome.duplicates == 1)
        #expect(effects.askedAbout == [[Self.originKey]])
        #expect(effects.finished == [MessageRef(delivery: 0, message: 0)])
    }

    @Test func aSecondRoutingOfAnUncountedOriginalCounts() async throws {
        let effects = RecordingEffects()
        let outcome = await Base.ingest([[Self.copy(2, originAttempts: 2)]], effects: effects)
        #expect(outcome.plays.count == 1)
        #expect(effects.commits.first?.messages == [Self.originKey])
    }

    @Test func twoCopiesOfOneOriginalInOneReadBatchCountOnceAndBothAreFinished() async throws {
        let effects = RecordingEffects()
        let outcome = await Base.ingest([[Self.copy(1)], [Self.copy(2, originAttempts: 2)]], effects: effects)

        #expect(outcome.plays.count == 1)
        #expect(outcome.duplicates == 1)
        #expect(effects.commits.first?.messages == [Self.originKey])
        // Two messages for nsqd (two ids): each must be FIN'd, or the second would time out and come back.
        #expect(effects.finished == [MessageRef(delivery: 0, message: 0), MessageRef(delivery: 1, message: 0)])
    }

    @Test func aTimedOutCopyDeliveredAgainInTheSameBatchIsSettledByTheFirst() async throws {
        let effects = RecordingEffects()
        let first = Self.copy(1)
        var again = first
        again.attempts = 2
        let outcome = await Base.ingest([[first], [again]], effects: effects)

        #expect(outcome.plays.count == 1)
        #expect(outcome.duplicates == 1)
        // Same id on the same channel: one FIN settles both.
        #expect(effects.finished == [MessageRef(delivery: 0, message: 0)])
    }

    @Test func aCopyWhoseCommitFailsIsRequeued() async throws {
        let effects = RecordingEffects()
        effects.failCommit = true
        let outcome = await Base.ingest([[Self.copy(1)], [Self.copy(2, originAttempts: 2)]], effects: effects)
        #expect(!outcome.committed)
        #expect(effects.finished.isEmpty)
        #expect(effects.requeued == [MessageRef(delivery: 0, message: 0), MessageRef(delivery: 1, message: 0)])
    }
}

import Foundation
import Testing
@testable import PlayCounts
@testable import PlayLoad

let second: WallNanoseconds = 1_000_000_000
let t0: WallNanoseconds = 1_000_000 * second

func video(_ number: Int) -> VideoID { VideoID(high: 0x1234, low: UInt64(number)) }

func plays(_ videos: [VideoID], queuedAt: WallNanoseconds, receivedAt: WallNanoseconds? = nil) -> [Play] {
    videos.map { Play(video: $0, queuedAt: queuedAt, receivedAt: receivedAt ?? queuedAt) }
}

@Suite("PublishPolicy")
struct PolicyTests {
    let configuration = PublishPolicyConfiguration()

    @Test("the first 100 plays of a video are published as they are read")
    func realtimePlaysArePublishedAtOnce() {
        var policy = PublishPolicy()
        for n in 1...100 {
            let actions = policy.receive(plays([video(1)], queuedAt: t0 + WallNanoseconds(n)), now: t0 + WallNanoseconds(n))
            #expect(actions.calls == [[VideoCount(video: video(1), plays: n)]])
            #expect(actions.wakeAt == nil)
        }
        let held = policy.receive(plays([video(1)], queuedAt: t0 + 200), now: t0 + 200)
        #expect(held.calls.isEmpty)
        #expect(held.wakeAt == t0 + 200 + configuration.maxStaleness - configuration.safetyMargin)
    }

    @Test("a batch crossing the threshold publishes the whole count and holds nothing")
    func crossingTheThreshold() {
        var policy = PublishPolicy()
        _ = policy.receive(plays(Array(repeating: video(7), count: 99), queuedAt: t0), now: t0)
        #expect(policy.count(of: video(7)) == 99)
        // Plays 100 (realtime: 99 before it), 101 and 102 (held) in one batch.
        let actions = policy.receive(plays(Array(repeating: video(7), count: 3), queuedAt: t0 + second), now: t0 + second)
        #expect(actions.calls == [[VideoCount(video: video(7), plays: 102)]])
        #expect(policy.heldVideoCount == 0)
        #expect(actions.wakeAt == nil)
        // Play 103 is held: no call until its deadline.
        let next = policy.receive(plays([video(7)], queuedAt: t0 + 2 * second), now: t0 + 2 * second)
        #expect(next.calls.isEmpty)
        #expect(policy.heldVideoCount == 1)
    }

    @Test("100 videos realtime in one batch take 5 full calls")
    func hundredRealtimeVideos() {
        var policy = PublishPolicy()
        let actions = policy.receive(plays((1...100).map(video), queuedAt: t0), now: t0)
        #expect(actions.calls.count == 5)
        #expect(actions.calls.allSatisfy { $0.count == 20 })
        #expect(Set(actions.calls.joined().map(\.video)) == Set((1...100).map(video)))
    }

    @Test("held videos go out at their deadline, not earlier, earliest first, 20 per call")
    func heldVideosWaitForTheirDeadline() {
        var policy = PublishPolicy(configuration: PublishPolicyConfiguration(realtimeThreshold: 0))
        let margin = configuration.safetyMargin
        // 25 videos queued one second apart.
        var wake: WallNanoseconds?
        for n in 1...25 {
            let queued = t0 + WallNanoseconds(n) * second
            let actions = policy.receive(plays([video(n)], queuedAt: queued), now: queued)
            #expect(actions.calls.isEmpty)
            wake = actions.wakeAt
        }
        let firstDeadline = t0 + second + configuration.maxStaleness - margin
        #expect(wake == firstDeadline)
        #expect(policy.tick(now: firstDeadline - 1).calls.isEmpty)
        let due = policy.tick(now: firstDeadline)
        #expect(due.calls.count == 1)
        #expect(due.calls[0].map(\.video) == (1...20).map(video))
        #expect(due.wakeAt == firstDeadline + 20 * second)
        let rest = policy.tick(now: firstDeadline + 20 * second)
        #expect(rest.calls.map { $0.map(\.video) } == [(21...25).map(video)])
        #expect(rest.wakeAt == nil)
        #expect(policy.heldVideoCount == 0)
    }

    @Test("a held video's deadline is set by its oldest unpublished play")
    func deadlineFollowsOldestPlay() {
        var policy = PublishPolicy(configuration: PublishPolicyConfiguration(realtimeThreshold: 0))
        _ = policy.receive(plays([video(1)], queuedAt: t0), now: t0)
        let later = policy.receive(plays([video(1)], queuedAt: t0 + 30 * second), now: t0 + 30 * second)
        #expect(later.wakeAt == t0 + configuration.maxStaleness - configuration.safetyMargin)
        // A play queued earlier than the held one (requeued message) moves the deadline earlier.
        let requeued = policy.receive(plays([video(1)], queuedAt: t0 - 10 * second, receivedAt: t0 + 31 * second),
            now: t0 + 31 * second)
        #expect(requeued.wakeAt == t0 - 10 * second + configuration.maxStaleness - configuration.safetyMargin)
    }

    @Test("spare room in a realtime call carries held videos, earliest deadline first")
    func spareRoomCarriesHeldVideos() {
        var policy = PublishPolicy(configuration: PublishPolicyConfiguration(realtimeThreshold: 1))
        // Videos 1…25 get their realtime play, then a held play each, queued a second apart.
        _ = policy.receive(plays((1...25).map(video), queuedAt: t0), now: t0)
        for n in 1...25 {
            let queued = t0 + WallNanoseconds(n) * second
            #expect(policy.receive(plays([video(n)], queuedAt: queued), now: queued).calls.isEmpty)
        }
        // Three new videos: one call, 3 realtime + 17 held with the earliest deadlines.
        let actions = policy.receive(plays((101...103).map(video), queuedAt: t0 + 30 * second), now: t0 + 30 * second)
        #expect(actions.calls.count == 1)
        #expect(actions.calls[0].map(\.video) == (101...103).map(video) + (1...17).map(video))
        #expect(actions.calls[0].suffix(17).allSatisfy { $0.plays == 2 })
        #expect(policy.heldVideoCount == 8)
        #expect(actions.wakeAt == t0 + 18 * second + configuration.maxStaleness - configuration.safetyMargin)
    }

    @Test("flush publishes everything held, 20 per call, and only changed counts")
    func flushPublishesEverythingHeld() {
        var policy = PublishPolicy(configuration: PublishPolicyConfiguration(realtimeThreshold: 1))
        _ = policy.receive(plays((1...45).map(video), queuedAt: t0), now: t0)
        _ = policy.receive(plays((1...45).map(video), queuedAt: t0 + second), now: t0 + second)
        #expect(policy.heldVideoCount == 45)
        let flushed = policy.flush()
        #expect(flushed.calls.map(\.count) == [20, 20, 5])
        #expect(flushed.calls.joined().allSatisfy { $0.plays == 2 })
        #expect(flushed.wakeAt == nil)
        #expect(policy.flush().calls.isEmpty)
        #expect(policy.tick(now: t0 + 3600 * second).calls.isEmpty)
    }

    @Test("a play read past its deadline is published at once and counted late")
    func latePlaysArePublishedAtOnce() {
        var policy = PublishPolicy(configuration: PublishPolicyConfiguration(realtimeThreshold: 0))
        let readAt = t0 + 61 * second
        let actions = policy.receive(plays([video(1)], queuedAt: t0, receivedAt: readAt), now: readAt)
        #expect(actions.calls == [[VideoCount(video: video(1), plays: 1)]])
        #expect(policy.latePlays == 1)
        // Read after the safe deadline but before the rule's: published at once, not late.
        let close = t0 + 100 * second
        let onTime = policy.receive(
            plays([video(2)], queuedAt: close - 60 * second + second / 10, receivedAt: close), now: close)
        #expect(onTime.calls == [[VideoCount(video: video(2), plays: 1)]])
        #expect(policy.latePlays == 1)
    }

    @Test("an acknowledged newer count releases a held video and is never published again")
    func acknowledgeReleasesHeldVideos() {
        var policy = PublishPolicy(configuration: PublishPolicyConfiguration(realtimeThreshold: 0))
        _ = policy.receive(plays([video(1), video(2)], queuedAt: t0), now: t0)
        policy.acknowledge([VideoCount(video: video(1), plays: 1)])
        #expect(policy.heldVideoCount == 1)
        #expect(policy.flush().calls == [[VideoCount(video: video(2), plays: 1)]])
    }

    @Test("no call ever carries more than the configured maximum")
    func smallCallLimit() {
        var policy = PublishPolicy(configuration: PublishPolicyConfiguration(maxVideosPerCall: 3))
        let actions = policy.receive(plays((1...10).map(video), queuedAt: t0), now: t0)
        #expect(actions.calls.map(\.count) == [3, 3, 3, 1])
    }
}

@Suite("Untrusted timestamps")
struct UntrustedTimestampTests {
    @Test("extreme queue timestamps crash nothing: policy, bound, stats, audit and logs")
    func extremeTimestamps() throws {
        let extremes: [WallNanoseconds] = [.max, .min, 0, -1, .max - 1, .min + 1]
        var batches: [TraceBatch] = []
        for (index, queued) in extremes.enumerated() {
            let readAt = t0 + WallNanoseconds(index) * second
            batches.append(TraceBatch(readAt: readAt, plays: plays(Array(repeating: video(1), count: 60), queuedAt: queued, receivedAt: readAt)))
        }
        let result = simulate(batches, configuration: PublishPolicyConfiguration(realtimeThreshold: 100))
        #expect(result.policy.count(of: video(1)) == 360)
        #expect(result.bound.value <= result.calls.count)
        let violations = result.audit(configuration: PublishPolicyConfiguration())
        #expect(violations.allSatisfy { $0.rule == .heldPlayStale && $0.unavoidable })
        let stats = result.stats
        #expect(stats.plays == 360)
        _ = ReceiptLog.lines(for: batches[0].plays, batchNumber: 1, origin: .min)
        let line = PublishLog.line(for: PublishCall(sequence: 1, publishedAt: .min, counts: []))
        #expect(throws: LogParseError.self) { try PublishLog.parse(line: line) }  // year out of range: no crash
    }

    @Test("a decoded configuration is clamped like a constructed one")
    func decodedConfigurationIsClamped() throws {
        let json = #"{"realtime_threshold": -5, "max_staleness_ns": 1000, "safety_margin_ns": 5000, "max_videos_per_call": 0}"#
        let configuration = try JSONDecoder().decode(PublishPolicyConfiguration.self, from: Data(json.utf8))
        #expect(configuration == PublishPolicyConfiguration(realtimeThreshold: 0, maxStaleness: 1000, safetyMargin: 1000, maxVideosPerCall: 1))
        let empty = try JSONDecoder().decode(PublishPolicyConfiguration.self, from: Data("{}".utf8))
        #expect(empty == PublishPolicyConfiguration())
    }
}

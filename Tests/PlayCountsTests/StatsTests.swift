import Foundation
import Testing
@testable import PlayCounts
@testable import PlayLoad

@Suite("Lower bound and stats")
struct StatsTests {
    /// Runs the policy and the bound over hand-made batches; returns (calls, bound).
    func callsAndBound(_ batches: [TraceBatch], _ configuration: PublishPolicyConfiguration) -> (Int, Int) {
        let result = simulate(batches, configuration: configuration)
        #expect(result.audit(configuration: configuration).isEmpty)
        return (result.calls.count, result.bound.value)
    }

    @Test("one video's 100 realtime plays in 100 batches: bound 100, exact")
    func realtimeOneByOne() {
        let batches = (0..<100).map { n in
            TraceBatch(readAt: t0 + WallNanoseconds(n) * second, plays: plays([video(1)], queuedAt: t0 + WallNanoseconds(n) * second))
        }
        let (calls, bound) = callsAndBound(batches, PublishPolicyConfiguration())
        #expect(bound == 100)
        #expect(calls == bound)
    }

    @Test("100 new videos in one batch: bound 5, exact")
    func hundredVideosAtOnce() {
        let (calls, bound) = callsAndBound(
            [TraceBatch(readAt: t0, plays: plays((1...100).map(video), queuedAt: t0))], PublishPolicyConfiguration())
        #expect(bound == 5)
        #expect(calls == 5)
    }

    @Test("held videos ride in the spare room of a later realtime call: bound 3, exact")
    func spareRoomAbsorbsHeldVideos() {
        let configuration = PublishPolicyConfiguration(realtimeThreshold: 1)
        let batches = [
            TraceBatch(readAt: t0, plays: plays((1...19).map(video), queuedAt: t0)),  // 1 forced call
            TraceBatch(readAt: t0 + second, plays: plays((1...19).map(video), queuedAt: t0 + second)),  // 19 held
            TraceBatch(readAt: t0 + 10 * second, plays: plays((101...121).map(video), queuedAt: t0 + 10 * second)),
        ]
        let (calls, bound) = callsAndBound(batches, configuration)
        var lowerBound = PublishLowerBound(configuration: configuration)
        for batch in batches { lowerBound.observe(batch: batch.plays) }
        #expect(lowerBound.forcedCalls == 3)
        #expect(lowerBound.heldSlots == 19)
        #expect(lowerBound.usableSpareSlots == 19)
        #expect(bound == 3)
        #expect(calls == 3)
    }

    @Test("spare room before the held plays were read cannot carry them: bound 4, exact")
    func spareRoomIsBoundInTime() {
        let configuration = PublishPolicyConfiguration(realtimeThreshold: 1)
        let batches = [
            TraceBatch(readAt: t0, plays: plays((1...30).map(video), queuedAt: t0)),  // 2 forced calls, 10 spare
            TraceBatch(readAt: t0 + second, plays: plays((1...30).map(video), queuedAt: t0 + second)),  // 30 held
        ]
        var lowerBound = PublishLowerBound(configuration: configuration)
        for batch in batches { lowerBound.observe(batch: batch.plays) }
        #expect(lowerBound.spareSlots == 10)
        #expect(lowerBound.usableSpareSlots == 0)
        let (calls, bound) = callsAndBound(batches, configuration)
        #expect(bound == 4)  // the time-blind F + ceil((H − S)/20) would say 3
        #expect(calls == 4)
    }

    @Test("held plays read with their video's realtime play need no slot of their own")
    func crossingBatchNeedsOneCall() {
        let configuration = PublishPolicyConfiguration()
        var batch = plays(Array(repeating: video(1), count: 99), queuedAt: t0)
        let (calls, bound) = callsAndBound(
            [TraceBatch(readAt: t0, plays: batch)], configuration)
        #expect((calls, bound) == (1, 1))
        batch += plays(Array(repeating: video(1), count: 3), queuedAt: t0 + second)
        var lowerBound = PublishLowerBound(configuration: configuration)
        lowerBound.observe(batch: Array(batch.prefix(99)))
        lowerBound.observe(batch: Array(batch.suffix(3)))
        #expect(lowerBound.forcedCalls == 2)
        #expect(lowerBound.heldSlots == 0)
        #expect(lowerBound.value == 2)
    }

    @Test("overlapping held windows of a video form one group, disjoint ones two")
    func heldGroups() {
        let configuration = PublishPolicyConfiguration(realtimeThreshold: 0, maxStaleness: 60 * second)
        var bound = PublishLowerBound(configuration: configuration)
        bound.observe(batch: plays([video(1)], queuedAt: t0))
        bound.observe(batch: plays([video(1)], queuedAt: t0 + 10 * second))  // [10, 70] meets [0, 60]
        #expect(bound.heldSlots == 1)
        bound.observe(batch: plays([video(1)], queuedAt: t0 + 61 * second))  // starts after 60
        #expect(bound.heldSlots == 2)
        #expect(bound.value == 1)  // two slots fit one call's room; the policy needs 2 calls (bound ≤ calls)
        let result = simulate(
            [0, 10, 61].map { TraceBatch(readAt: t0 + $0 * second, plays: plays([video(1)], queuedAt: t0 + $0 * second)) },
            configuration: configuration)
        #expect(result.calls.count == 2)
    }

    @Test("histogram percentiles are within 3 % and the maximum is exact")
    func histogram() {
        var histogram = LatencyHistogram()
        for ms in 1...1_000 { histogram.record(WallNanoseconds(ms) * 1_000_000) }
        histogram.record(1_234_567_891)
        #expect(histogram.count == 1_001)
        #expect(histogram.maximum == 1_234_567_891)
        let p50 = Double(histogram.percentile(0.5)) / 1e6
        let p99 = Double(histogram.percentile(0.99)) / 1e6
        #expect(abs(p50 - 501) / 501 < 0.03, "p50 \(p50)")
        #expect(abs(p99 - 991) / 991 < 0.03, "p99 \(p99)")
        #expect(histogram.percentile(1) == 1_234_567_891)
        #expect(LatencyHistogram().percentile(0.5) == 0)
    }

    @Test("the recorder measures realtime latency, staleness and late plays from delivered calls")
    func recorder() {
        var recorder = StatsRecorder()
        recorder.recordInvalidMessages(2)
        recorder.recordBatch(plays([video(1)], queuedAt: t0, receivedAt: t0 + 3_000_000))
        recorder.recordCall(PublishCall(sequence: 1, publishedAt: t0 + 5_000_000, counts: [VideoCount(video: video(1), plays: 1)]))
        // A late play (read 70 s after it was queued) of a video over the threshold.
        recorder.recordBatch(plays(Array(repeating: video(2), count: 101), queuedAt: t0, receivedAt: t0 + second))
        recorder.recordCall(PublishCall(sequence: 2, publishedAt: t0 + second, counts: [VideoCount(video: video(2), plays: 101)]))
        recorder.recordBatch(plays([video(2)], queuedAt: t0, receivedAt: t0 + 70 * second))
        recorder.recordCall(PublishCall(sequence: 3, publishedAt: t0 + 70 * second, counts: [VideoCount(video: video(2), plays: 102)]))
        let stats = recorder.snapshot()
        #expect(stats.messages == 105)
        #expect(stats.invalidMessages == 2)
        #expect(stats.plays == 103)
        #expect(stats.realtimePlays == 101)
        #expect(stats.calls == 3)
        #expect(stats.videosPerCallMax == 1)
        #expect(stats.latePlays == 1)
        #expect(stats.stalePlays == 1)
        #expect(stats.worstStalenessMs == 70_000)
        #expect(stats.realtimeLatencyFromReceive.count == 101)
        #expect(stats.realtimeLatencyFromReceive.maxMs == 2)
        #expect(stats.realtimeLatencyFromQueue.maxMs == 1_000)
        #expect(stats.lowerBound == 3)
    }

    @Test("stats encode to JSON with snake_case keys and decode back")
    func statsCodable() throws {
        var recorder = StatsRecorder()
        recorder.recordBatch(plays([video(1)], queuedAt: t0))
        let stats = recorder.snapshot()
        let data = try JSONEncoder().encode(stats)
        let text = String(decoding: data, as: UTF8.self)
        #expect(text.contains("\"lower_bound\":1"))
        #expect(text.contains("\"realtime_latency_from_receive\""))
        #expect(try JSONDecoder().decode(PlayCountStats.self, from: data) == stats)
    }
}

@Suite("Policy benchmark scenarios")
struct PolicyBenchmarkTests {
    @Test("a measured scenario reports the simulation's own figures")
    func measure() {
        let trace = SyntheticTrace.live(seed: 4, videos: ZipfVideos(count: 20, exponent: 1), rate: 10, duration: 120, start: t0)
        let figures = PolicyBenchmark.measure("small", trace)
        let simulation = PolicySimulation.run(trace)
        #expect(figures.calls == simulation.calls.count)
        #expect(figures.lowerBound == simulation.bound.value)
        #expect(figures.plays == trace.reduce(0) { $0 + $1.plays.count })
        #expect(figures.violations == 0)
        #expect(figures.description.hasPrefix("small: \(figures.plays) plays, \(figures.calls) calls"))
    }
}

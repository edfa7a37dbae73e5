import Testing
@testable import PlayCounts
@testable import PlayLoad

@Suite("PublishPolicy over simulated traces")
struct PolicyPropertyTests {
    @Test("every rule holds and the bound is below the calls, on random traces", arguments: 0..<40)
    func randomTraces(seed: Int) {
        var generator = SeededGenerator(seed: UInt64(seed) &* 7919 &+ 17)
        let configuration = PublishPolicyConfiguration(
            realtimeThreshold: Int.random(in: 0...30, using: &generator),
            maxStaleness: WallNanoseconds.random(in: 5...60, using: &generator) * second,
            safetyMargin: WallNanoseconds.random(in: 0...2_000, using: &generator) * 1_000_000,
            maxVideosPerCall: Int.random(in: 1...20, using: &generator))
        let videos = ZipfVideos(
            count: Int.random(in: 1...150, using: &generator), exponent: Double.random(in: 0.5...1.5, using: &generator))
        let trace = liveTrace(
            seed: UInt64(seed), videos: videos, rate: Double.random(in: 0.5...80, using: &generator),
            duration: Double.random(in: 60...600, using: &generator),
            readInterval: Double.random(in: 0.001...2, using: &generator),
            lateFraction: seed % 4 == 0 ? 0.01 : 0)
        let result = simulate(trace, configuration: configuration, flushAtEnd: seed % 3 == 0)

        let violations = result.audit(configuration: configuration)
        let avoidable = violations.filter { !$0.unavoidable || $0.rule != .heldPlayStale }
        #expect(avoidable.isEmpty, "seed \(seed): \(avoidable.prefix(5))")
        #expect(violations.count <= result.policy.latePlays, "seed \(seed): only late reads may be stale")
        #expect(result.bound.value <= result.calls.count, "seed \(seed)")
        #expect(result.stats.calls == result.calls.count)
        #expect(result.stats.stalePlays == result.policy.latePlays)
    }

    @Test("a 100k backlog read in batches of 2,500 over 100 Zipf videos takes at most 150 calls")
    func backlog() {
        let configuration = PublishPolicyConfiguration()
        let videos = ZipfVideos(count: 100, exponent: 1.35)
        var generator = SeededGenerator(seed: 42)
        // 100,000 plays queued over the 20 s before reading starts, read 2,500 at a time, 25 ms apart.
        let readStart = t0 + 20 * second
        var all: [(VideoID, WallNanoseconds)] = []
        for index in 0..<100_000 {
            all.append((videos.pick(using: &generator), t0 + WallNanoseconds(index) * 200_000))
        }
        var batches: [TraceBatch] = []
        for batch in 0..<40 {
            let readAt = readStart + WallNanoseconds(batch) * 25_000_000
            let slice = all[(batch * 2_500)..<((batch + 1) * 2_500)]
            batches.append(TraceBatch(readAt: readAt, plays: slice.map { Play(video: $0.0, queuedAt: $0.1, receivedAt: readAt) }))
        }
        let result = simulate(batches, configuration: configuration)
        let counts = result.policy.allCounts
        #expect(counts.values.reduce(0, +) == 100_000)
        #expect(counts.values.filter { $0 < 100 }.count >= 15)
        #expect(result.audit(configuration: configuration).isEmpty)
        #expect(result.calls.count <= 150)
        #expect(result.bound.value <= result.calls.count)
        print("backlog: \(result.calls.count) calls, lower bound \(result.bound.value), "
            + "\(counts.values.filter { $0 < 100 }.count) videos under 100 plays")
    }

    @Test("a live trace at 200 plays/s is within 0.1 % of the lower bound", arguments: [1, 2, 3])
    func liveTraceNearTheBound(seed: Int) {
        let configuration = PublishPolicyConfiguration()
        let videos = ZipfVideos(count: 100, exponent: 1.2, salt: UInt64(seed))
        let trace = liveTrace(seed: UInt64(seed), videos: videos, rate: 200, duration: 1_800, readInterval: 0.005)
        let result = simulate(trace, configuration: configuration)
        #expect(result.audit(configuration: configuration).isEmpty)
        let ratio = Double(result.calls.count) / Double(result.bound.value)
        print("live seed \(seed): \(result.calls.count) calls, bound \(result.bound.value) "
            + "(F \(result.bound.forcedCalls), H \(result.bound.heldSlots), spare \(result.bound.spareSlots)), ratio \(ratio)")
        #expect(result.bound.value <= result.calls.count)
        #expect(ratio <= 1.001)
    }
}

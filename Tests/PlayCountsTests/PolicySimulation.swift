import Foundation
@testable import PlayCounts

/// A small, fast, seedable generator (SplitMix64) so every simulated trace can be replayed from its seed.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Exponentially distributed with the given mean.
    mutating func exponential(mean: Double) -> Double {
        -mean * log1p(-Double.random(in: 0..<1, using: &self))
    }
}

/// Picks videos by a Zipf-like law: video `k` (from 1) with weight `1 / k^exponent`.
struct ZipfVideos {
    let videos: [VideoID]
    private let cumulative: [Double]

    init(count: Int, exponent: Double, salt: UInt64 = 0) {
        videos = (0..<count).map { VideoID(high: 0xABCD_0000_0000_0000 | salt, low: UInt64($0 + 1)) }
        var total = 0.0
        var sums: [Double] = []
        for rank in 1...max(1, count) {
            total += 1 / pow(Double(rank), exponent)
            sums.append(total)
        }
        cumulative = sums.map { $0 / total }
    }

    func pick(using generator: inout SeededGenerator) -> VideoID {
        let u = Double.random(in: 0..<1, using: &generator)
        var low = 0
        var high = cumulative.count - 1
        while low < high {
            let mid = (low + high) / 2
            if cumulative[mid] < u { low = mid + 1 } else { high = mid }
        }
        return videos[low]
    }
}

/// One read batch of a trace: the instant it was read and its plays (each `receivedAt` is that instant).
struct TraceBatch {
    var readAt: WallNanoseconds
    var plays: [Play]
}

/// What a simulated policy run did.
struct SimulationResult {
    var calls: [PublishCall]
    var receipts: [ReceiptRecord]
    var stats: PlayCountStats
    var policy: PublishPolicy
    var bound: PublishLowerBound { recorder.bound }
    var recorder: StatsRecorder

    func audit(configuration: PublishPolicyConfiguration, realtimeGrace: WallNanoseconds = 0) -> [AuditViolation] {
        PublishAudit.check(receipts: receipts, calls: calls, configuration: configuration, realtimeGrace: realtimeGrace)
    }
}

/// Runs the pure policy over `batches` with an instantaneous client: calls happen at the instant the policy
/// decides them; wake-ups are honoured exactly; after the last batch, time runs on until nothing is held.
func simulate(
    _ batches: [TraceBatch], configuration: PublishPolicyConfiguration = PublishPolicyConfiguration(),
    flushAtEnd: Bool = false
) -> SimulationResult {
    var policy = PublishPolicy(configuration: configuration)
    var recorder = StatsRecorder(configuration: configuration)
    var calls: [PublishCall] = []
    var receipts: [ReceiptRecord] = []
    var wakeAt: WallNanoseconds?
    var now: WallNanoseconds = .min

    func emit(_ actions: PublishPolicy.Actions, at instant: WallNanoseconds) {
        for counts in actions.calls {
            let call = PublishCall(sequence: calls.count + 1, publishedAt: instant, counts: counts)
            calls.append(call)
            recorder.recordCall(call)
            policy.acknowledge(counts)
        }
        wakeAt = actions.wakeAt
    }

    for (index, batch) in batches.enumerated() {
        while let wake = wakeAt, wake <= batch.readAt {
            now = max(now, wake)
            emit(policy.tick(now: now), at: now)
        }
        now = max(now, batch.readAt)
        for play in batch.plays {
            receipts.append(ReceiptRecord(
                atMs: 0, video: play.video, queuedAt: play.queuedAt, receivedAt: play.receivedAt, batch: index + 1))
        }
        recorder.recordBatch(batch.plays)
        emit(policy.receive(batch.plays, now: now), at: now)
    }
    if flushAtEnd {
        emit(policy.flush(), at: now)
    }
    while let wake = wakeAt {
        now = max(now, wake)
        emit(policy.tick(now: now), at: now)
    }
    return SimulationResult(
        calls: calls, receipts: receipts, stats: recorder.snapshot(), policy: policy, recorder: recorder)
}

/// A live-like trace: plays arrive at `rate` per second (Poisson), reach the reader after a small random delay,
/// and are read in batches at random read instants (mean `readInterval`).
func liveTrace(
    seed: UInt64, videos: ZipfVideos, rate: Double, duration: Double, readInterval: Double = 0.01,
    transit: ClosedRange<Double> = 0.0005...0.005, lateFraction: Double = 0, start: WallNanoseconds = 1_000_000_000_000
) -> [TraceBatch] {
    var generator = SeededGenerator(seed: seed)
    var arrivals: [(queued: WallNanoseconds, ready: WallNanoseconds, video: VideoID)] = []
    var t = 0.0
    while true {
        t += generator.exponential(mean: 1 / rate)
        if t > duration { break }
        let queued = start + WallNanoseconds(t * 1e9)
        var delay = Double.random(in: transit, using: &generator)
        if lateFraction > 0, Double.random(in: 0..<1, using: &generator) < lateFraction {
            delay += Double.random(in: 55...70, using: &generator)
        }
        arrivals.append((queued, queued + WallNanoseconds(delay * 1e9), videos.pick(using: &generator)))
    }
    arrivals.sort { $0.ready < $1.ready }
    var batches: [TraceBatch] = []
    var index = 0
    var readAt = start
    while index < arrivals.count {
        readAt += max(1, WallNanoseconds(generator.exponential(mean: readInterval) * 1e9))
        if arrivals[index].ready > readAt { readAt = arrivals[index].ready }
        var plays: [Play] = []
        while index < arrivals.count, arrivals[index].ready <= readAt {
            plays.append(Play(video: arrivals[index].video, queuedAt: arrivals[index].queued, receivedAt: readAt))
            index += 1
        }
        batches.append(TraceBatch(readAt: readAt, plays: plays))
    }
    return batches
}

import Foundation

import PlayCounts
/// One read batch of a trace: the instant it was read and its plays (each `receivedAt` is that instant).
public struct TraceBatch: Sendable, Hashable {
    public var readAt: WallNanoseconds
    public var plays: [Play]

    public init(readAt: WallNanoseconds, plays: [Play]) {
        self.readAt = readAt
        self.plays = plays
    }
}

/// Seeded synthetic traces for simulations and benchmarks.
public enum SyntheticTrace {
    /// Live traffic: plays arrive on the queue at `rate` per second (Poisson) for `duration` seconds, reach the
    /// reader after a random `transit` (seconds), and are read at random instants `readInterval` apart on average.
    /// A `lateFraction` of plays are delayed 55–70 s more, as after a stall.
    public static func live(
        seed: UInt64, videos: ZipfVideos, rate: Double, duration: Double, readInterval: Double = 0.01,
        transit: ClosedRange<Double> = 0.0005...0.005, lateFraction: Double = 0,
        start: WallNanoseconds = 1_700_000_000_000_000_000
    ) -> [TraceBatch] {
        var generator = SplitMix64(seed: seed)
        var arrivals: [(queued: WallNanoseconds, ready: WallNanoseconds, video: VideoID)] = []
        var t = 0.0
        while rate > 0 {
            t += exponential(mean: 1 / rate, using: &generator)
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
            readAt += max(1, WallNanoseconds(exponential(mean: readInterval, using: &generator) * 1e9))
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

    /// A backlog: `plays` plays queued evenly over `queuedOver` seconds before `readStart`, then read
    /// `batchSize` at a time, `readInterval` seconds apart.
    public static func backlog(
        seed: UInt64, videos: ZipfVideos, plays: Int, batchSize: Int, queuedOver: Double = 20,
        readInterval: Double = 0.025, readStart: WallNanoseconds = 1_700_000_000_000_000_000
    ) -> [TraceBatch] {
        var generator = SplitMix64(seed: seed)
        let spacing = plays > 0 ? WallNanoseconds(queuedOver * 1e9) / WallNanoseconds(plays) : 0
        let firstQueued = readStart - WallNanoseconds(queuedOver * 1e9)
        var batches: [TraceBatch] = []
        var next = 0
        let size = max(1, batchSize)
        while next < plays {
            let readAt = readStart + WallNanoseconds(batches.count) * WallNanoseconds(readInterval * 1e9)
            let end = min(plays, next + size)
            let batch = (next..<end).map { index in
                Play(video: videos.pick(using: &generator), queuedAt: firstQueued + WallNanoseconds(index) * spacing,
                    receivedAt: readAt)
            }
            batches.append(TraceBatch(readAt: readAt, plays: batch))
            next = end
        }
        return batches
    }

    private static func exponential(mean: Double, using generator: inout SplitMix64) -> Double {
        -mean * log1p(-Double.random(in: 0..<1, using: &generator))
    }
}

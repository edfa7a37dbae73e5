#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

import PlayCounts
/// A deterministic plan of play messages for load and behaviour tests: how many plays each video gets,
/// the videos' GUIDs, and a shuffled message order — all fixed by the seed.
///
/// Generated distributions (zipf, uniform, weights) are apportioned exactly to `plays` and then given a
/// "small tail": the `minimumSmallVideos` least popular videos get between 1 and 99 plays (capped from 99
/// down to 10 along the tail, so they differ), and the plays removed from them go to the other videos in
/// proportion to their weights. Totals are always exact.
public struct SeedPlan: Sendable {
    public static let defaultVideos = 100
    public static let defaultSmallVideos = 15
    /// A video is "small" below this many plays (the processor publishes those at once).
    public static let smallThreshold = 100

    public let seed: UInt64
    public let distribution: SeedDistribution
    /// The videos, most popular first for zipf (the distribution's rank order otherwise).
    public let videos: [VideoID]
    /// Plays per video, parallel to ``videos``.
    public let counts: [Int]
    /// The sum of ``counts``.
    public let totalPlays: Int

    /// - Parameters:
    ///   - plays: total messages N (≥ 0). Nil only with `.counts`, which fixes it.
    ///   - videos: number of videos V (≥ 1). Nil: 100, or the list's length for `.weights`/`.counts`.
    ///   - distribution: how plays are split.
    ///   - minimumSmallVideos: K, how many videos must get 1–99 plays. Nil: min(15, V/2, N) for generated
    ///     distributions, no requirement for `.counts` (explicit counts are never altered, only checked).
    ///   - seed: fixes GUIDs and message order.
    public init(
        plays: Int? = nil,
        videos: Int? = nil,
        distribution: SeedDistribution = .default,
        minimumSmallVideos: Int? = nil,
        seed: UInt64 = 1
    ) throws(SeedPlanError) {
        var counts: [Int]
        switch distribution {
        case .counts(let explicit):
            counts = explicit
            if explicit.contains(where: { $0 < 0 }) { throw SeedPlanError("counts must be ≥ 0") }
            var sum = 0
            for value in explicit {
                let (next, overflow) = sum.addingReportingOverflow(value)
                if overflow { throw SeedPlanError("the counts add up to more than \(Int.max)") }
                sum = next
            }
            if let plays, plays != sum {
                throw SeedPlanError("\(plays) plays requested but the counts add up to \(sum); omit the play count or fix the list")
            }
            if let videos, videos != explicit.count {
                throw SeedPlanError("\(videos) videos requested but \(explicit.count) counts given")
            }
            let small = explicit.filter { (1..<Self.smallThreshold).contains($0) }.count
            if let minimumSmallVideos, small < minimumSmallVideos {
                throw SeedPlanError(
                    "the counts give \(small) videos with 1–99 plays but at least \(minimumSmallVideos) are required")
            }
        case .zipf, .uniform, .weights:
            guard let plays else { throw SeedPlanError("the number of plays is required for \(distribution)") }
            guard plays >= 0 else { throw SeedPlanError("the number of plays must be ≥ 0 (got \(plays))") }
            let weights = try Self.weights(distribution, videos: videos)
            let videoCount = weights.count
            let small = minimumSmallVideos ?? min(Self.defaultSmallVideos, videoCount / 2, plays)
            guard small >= 0 else { throw SeedPlanError("the number of small videos must be ≥ 0 (got \(small))") }
            guard small <= videoCount else {
                throw SeedPlanError("\(small) small videos requested but the plan has only \(videoCount) videos")
            }
            guard small <= plays else {
                throw SeedPlanError("\(small) small videos need at least one play each, but there are only \(plays) plays")
            }
            if small == videoCount, plays > small * (Self.smallThreshold - 1) {
                throw SeedPlanError(
                    "all \(videoCount) videos must stay under \(Self.smallThreshold) plays, so at most "
                        + "\(small * (Self.smallThreshold - 1)) plays fit (got \(plays)); add videos or lower the small count")
            }
            counts = Self.apportion(plays, weights: weights)
            Self.applySmallTail(&counts, weights: weights, small: small, total: plays)
        }
        var generator = SeededRandom(seed: seed, stream: 1)
        var seen = Set<VideoID>()
        var ids: [VideoID] = []
        ids.reserveCapacity(counts.count)
        while ids.count < counts.count {
            let id = generator.guid()
            if seen.insert(id).inserted { ids.append(id) }
        }
        self.seed = seed
        self.distribution = distribution
        self.videos = ids
        self.counts = counts
        self.totalPlays = counts.reduce(0, +)
    }

    /// Per-video counts in plan order.
    public var videoCounts: [VideoCount] {
        zip(videos, counts).map { VideoCount(video: $0, plays: $1) }
    }

    /// How many videos get 1–99 plays.
    public var smallVideoCount: Int {
        counts.filter { (1..<Self.smallThreshold).contains($0) }.count
    }

    /// All ``totalPlays`` messages in a deterministic shuffled order (a uniformly random permutation of the
    /// multiset, drawn lazily: memory is O(videos), not O(plays)).
    public var messages: SeedMessages {
        SeedMessages(videos: videos, counts: counts, seed: seed)
    }

    /// The message body for one play: `{"video_id":"<guid>"}`.
    public static func body(for video: VideoID) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(50)
        out.append(contentsOf: #"{"video_id":""#.utf8)
        video.appendCanonicalUTF8(to: &out)
        out.append(contentsOf: #""}"#.utf8)
        return out
    }

    // MARK: Building counts

    private static func weights(_ distribution: SeedDistribution, videos: Int?) throws(SeedPlanError) -> [Double] {
        switch distribution {
        case .zipf(let exponent):
            guard exponent.isFinite, exponent >= 0 else { throw SeedPlanError("the zipf exponent must be a number ≥ 0") }
            let count = try videoCount(videos)
            return SeedDistribution.zipfWeights(count: count, exponent: exponent)
        case .uniform:
            return Array(repeating: 1, count: try videoCount(videos))
        case .weights(let weights):
            if let videos, videos != weights.count {
                throw SeedPlanError("\(videos) videos requested but \(weights.count) weights given")
            }
            guard !weights.isEmpty, weights.allSatisfy({ $0.isFinite && $0 >= 0 }), weights.contains(where: { $0 > 0 })
            else { throw SeedPlanError("weights must be finite, ≥ 0, with at least one > 0") }
            return weights
        case .counts:
            return []
        }
    }

    private static func videoCount(_ videos: Int?) throws(SeedPlanError) -> Int {
        let count = videos ?? defaultVideos
        guard count >= 1 else { throw SeedPlanError("the number of videos must be ≥ 1 (got \(count))") }
        guard count <= 10_000_000 else { throw SeedPlanError("at most 10,000,000 videos (got \(count))") }
        return count
    }

    /// Largest-remainder apportionment: integers proportional to `weights` summing exactly to `total`
    /// (ties go to the lower index; all-zero weights split evenly).
    static func apportion(_ total: Int, weights: [Double]) -> [Int] {
        guard !weights.isEmpty else { return [] }
        var effective = weights
        var sum = weights.reduce(0, +)
        if !(sum > 0) || !sum.isFinite {
            effective = Array(repeating: 1, count: weights.count)
            sum = Double(weights.count)
        }
        var result = [Int](repeating: 0, count: effective.count)
        var remainders: [(fraction: Double, index: Int)] = []
        remainders.reserveCapacity(effective.count)
        var assigned = 0
        for (index, weight) in effective.enumerated() {
            let exact = Double(total) * weight / sum
            let whole = min(Int(exact.rounded(.down)), total - assigned)
            result[index] = whole
            assigned += whole
            remainders.append((exact - Double(whole), index))
        }
        remainders.sort { $0.fraction != $1.fraction ? $0.fraction > $1.fraction : $0.index < $1.index }
        var left = total - assigned
        var cursor = 0
        while left > 0 {
            result[remainders[cursor % remainders.count].index] += 1
            left -= 1
            cursor += 1
        }
        return result
    }

    /// Forces the `small` least-weighted videos into 1…cap plays and rebalances the rest to keep `total`.
    static func applySmallTail(_ counts: inout [Int], weights: [Double], small: Int, total: Int) {
        guard small > 0 else { return }
        let order = weights.indices.sorted { weights[$0] != weights[$1] ? weights[$0] > weights[$1] : $0 < $1 }
        let tail = Array(order.suffix(small))
        let head = Array(order.dropLast(small))
        var isTail = [Bool](repeating: false, count: counts.count)
        for (position, index) in tail.enumerated() {
            isTail[index] = true
            let cap = (smallThreshold - 1) - position * 89 / max(small - 1, 1)
            counts[index] = min(max(counts[index], 1), cap)
        }
        var delta = total - counts.reduce(0, +)
        if delta > 0 {
            if head.isEmpty {
                // Only tail videos: fill them up to 99 each (the initializer checked that this fits).
                for index in tail where delta > 0 {
                    let room = (smallThreshold - 1) - counts[index]
                    let added = min(room, delta)
                    counts[index] += added
                    delta -= added
                }
            } else {
                let extra = apportion(delta, weights: head.map { weights[$0] })
                for (position, index) in head.enumerated() { counts[index] += extra[position] }
            }
        }
        while delta < 0 {
            // Raising zero-play tail videos to 1 overdrew: take from the biggest head video, else a tail one above 1.
            var donor = -1
            for index in counts.indices where isTail[index] ? counts[index] > 1 : counts[index] > 0 {
                if donor < 0 || counts[index] > counts[donor]
                    || (counts[index] == counts[donor] && !isTail[index] && isTail[donor])
                {
                    donor = index
                }
            }
            guard donor >= 0 else { return }
            counts[donor] -= 1
            delta += 1
        }
    }
}

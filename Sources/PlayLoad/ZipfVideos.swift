import Foundation

import PlayCounts
/// A fixed set of videos picked by a Zipf-like law: the video of rank `k` (from 1) with weight `1 / k^exponent`
/// (``SeedDistribution``'s zipf weights).
/// Not a ``SeedPlan``: a plan fixes exact per-video totals (with a small-video tail) and shuffles them, while a
/// live simulation needs an open-ended stream of independent picks at a Poisson rate.
public struct ZipfVideos: Sendable {
    public let videos: [VideoID]
    private let cumulative: [Double]

    /// - Parameter salt: distinguishes the video IDs of different sets.
    public init(count: Int, exponent: Double, salt: UInt64 = 0) {
        let count = max(1, count)
        videos = (0..<count).map { VideoID(high: 0xABCD_0000_0000_0000 | (salt & 0xFFFF_FFFF), low: UInt64($0 + 1)) }
        var total = 0.0
        var sums: [Double] = []
        sums.reserveCapacity(count)
        for weight in SeedDistribution.zipfWeights(count: count, exponent: exponent) {
            total += weight
            sums.append(total)
        }
        cumulative = sums.map { $0 / total }
    }

    public func pick(using generator: inout some RandomNumberGenerator) -> VideoID {
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

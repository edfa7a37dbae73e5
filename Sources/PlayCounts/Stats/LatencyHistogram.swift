/// A log-linear histogram of non-negative durations in bounded memory (≤ 1,600 counters): exact below 64 µs,
/// then 32 buckets per power of two, so a percentile is reported within ~3 % (as its bucket's upper edge,
/// never above the exact maximum).
public struct LatencyHistogram: Sendable, Hashable {
    private static let subBucketBits = 5
    private static let linearLimit: Int64 = 64
    private var buckets: [UInt64] = []
    public private(set) var count = 0
    public private(set) var maximum: WallNanoseconds = 0

    public init() {}

    /// Records one duration in nanoseconds (negative durations, from clock skew, count as zero).
    public mutating func record(_ nanoseconds: WallNanoseconds) {
        let value = max(0, nanoseconds)
        let index = Self.bucketIndex(microseconds: value / 1_000)
        if index >= buckets.count { buckets.append(contentsOf: repeatElement(0, count: index + 1 - buckets.count)) }
        buckets[index] += 1
        count += 1
        maximum = max(maximum, value)
    }

    /// The duration below which `fraction` (0…1) of the recorded durations fall; 0 when empty.
    public func percentile(_ fraction: Double) -> WallNanoseconds {
        guard count > 0 else { return 0 }
        let rank = max(1, Int((Double(count) * min(max(fraction, 0), 1)).rounded(.up)))
        var seen = 0
        for (index, bucketCount) in buckets.enumerated() {
            seen += Int(bucketCount)
            if seen >= rank {
                let (edge, overflow) = Self.upperEdgeMicroseconds(of: index).multipliedReportingOverflow(by: 1_000)
                return overflow ? maximum : min(maximum, edge)
            }
        }
        return maximum
    }

    static func bucketIndex(microseconds value: Int64) -> Int {
        if value < linearLimit { return Int(value) }
        let exponent = 63 - value.leadingZeroBitCount  // ≥ 6
        let sub = Int((value >> (exponent - subBucketBits)) & ((1 << subBucketBits) - 1))
        return Int(linearLimit) + (exponent - 6) * (1 << subBucketBits) + sub
    }

    /// The largest microsecond value that falls in bucket `index`.
    static func upperEdgeMicroseconds(of index: Int) -> Int64 {
        if index < Int(linearLimit) { return Int64(index) }
        let offset = index - Int(linearLimit)
        let exponent = offset / (1 << subBucketBits) + 6
        let sub = Int64(offset % (1 << subBucketBits))
        let width = Int64(1) << (exponent - subBucketBits)
        let lower = (Int64(1) << exponent) + sub * width
        return lower + width - 1
    }
}

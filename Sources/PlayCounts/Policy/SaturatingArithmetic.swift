/// Instants built from untrusted timestamps (an NSQ message carries any 64-bit value) must not trap on
/// overflow: sums and differences of instants saturate at the ends of the range instead.
extension WallNanoseconds {
    func saturatingAdd(_ other: WallNanoseconds) -> WallNanoseconds {
        let (sum, overflow) = addingReportingOverflow(other)
        return overflow ? (other > 0 ? .max : .min) : sum
    }

    func saturatingSubtract(_ other: WallNanoseconds) -> WallNanoseconds {
        let (difference, overflow) = subtractingReportingOverflow(other)
        return overflow ? (other < 0 ? .max : .min) : difference
    }
}

/// Exponential backoff between attempts of a call the client refused.
public struct RetryBackoff: Sendable, Hashable, Codable {
    public var initial: WallNanoseconds
    public var multiplier: Double
    public var maximum: WallNanoseconds

    public init(initial: WallNanoseconds = 100_000_000, multiplier: Double = 2, maximum: WallNanoseconds = 10_000_000_000) {
        self.initial = max(0, initial)
        self.multiplier = max(1, multiplier)
        self.maximum = max(self.initial, maximum)
    }

    /// The wait before the next attempt after `failures` consecutive failures (1, 2, …).
    public func delay(afterFailures failures: Int) -> WallNanoseconds {
        guard failures > 0 else { return 0 }
        var delay = Double(initial)
        for _ in 1..<failures {
            delay *= multiplier
            if delay >= Double(maximum) { return maximum }
        }
        return min(maximum, WallNanoseconds(delay))
    }
}

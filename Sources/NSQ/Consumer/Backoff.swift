/// Exponential backoff with jitter, capped: `initial * 2^(failures-1)` up to `maximum`, plus 0–25 %.
struct Backoff: Sendable {
    let initial: Duration
    let maximum: Duration

    func delay(afterFailures failures: Int, jitter: Double = Double.random(in: 0...0.25)) -> Duration {
        guard failures > 0 else { return .zero }
        let exponent = min(failures - 1, 30)
        let base = min(initial * (1 << exponent), maximum)
        return min(base + base * jitter, maximum + maximum * 0.25)
    }
}

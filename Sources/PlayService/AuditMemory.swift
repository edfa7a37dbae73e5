/// How many received plays a run keeps in memory for `audit` without a file (`audit-memory`); the publish
/// calls are kept within the same budget of video counts, and 0 also drops the client's last counts (one
/// entry per video). A headless processor that runs for days must not hold them, so `auto` keeps
/// ``interactivePlays`` under `start` and none under `serve`.
public enum AuditMemory: Sendable, Hashable {
    /// `start`: ``interactivePlays``; `serve`: none.
    case automatic
    /// At most this many plays (0: none).
    case plays(Int)

    /// What `auto` keeps under `start`: enough for the examples and interactive runs (32 bytes a play, about
    /// 64 MB at most, plus the calls).
    public static let interactivePlays = 2_000_000

    /// The most plays kept by a run that `serve` (headless) or `start` (interactive, scripts) began.
    public func playLimit(headless: Bool) -> Int {
        switch self {
        case .automatic: return headless ? 0 : Self.interactivePlays
        case .plays(let plays): return plays
        }
    }
}

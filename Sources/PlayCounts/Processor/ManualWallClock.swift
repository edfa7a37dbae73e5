import Foundation

/// A wall clock that moves only when told to, for tests: `sleep(until:)` suspends until `advance` reaches the
/// deadline (or the sleeping task is cancelled).
public final class ManualWallClock: WallClock, @unchecked Sendable {
    private let lock = NSLock()
    private var current: WallNanoseconds
    private var sleepers: [Int: (deadline: WallNanoseconds, continuation: CheckedContinuation<Void, any Error>)] = [:]
    private var nextSleeperID = 0

    /// Starts at `now` (default: 2023-11-14T22:13:20Z, an arbitrary fixed instant).
    public init(now: WallNanoseconds = 1_700_000_000_000_000_000) {
        self.current = now
    }

    public func now() -> WallNanoseconds {
        lock.withLock { current }
    }

    /// How many tasks are sleeping on this clock.
    public var sleeperCount: Int { lock.withLock { sleepers.count } }

    /// The earliest instant a sleeper waits for; nil when none sleeps.
    public var nextSleeperDeadline: WallNanoseconds? { lock.withLock { sleepers.values.map(\.deadline).min() } }

    /// Moves time forward by `duration` and wakes every sleeper whose deadline has come.
    public func advance(by duration: WallNanoseconds) {
        advance(to: now() + max(0, duration))
    }

    /// Moves time to `instant` (never backwards) and wakes every sleeper whose deadline has come.
    public func advance(to instant: WallNanoseconds) {
        let woken: [CheckedContinuation<Void, any Error>] = lock.withLock {
            current = max(current, instant)
            let due = sleepers.filter { $0.value.deadline <= current }
            for id in due.keys { sleepers[id] = nil }
            return due.values.map(\.continuation)
        }
        for continuation in woken { continuation.resume() }
    }

    public func sleep(until deadline: WallNanoseconds) async throws {
        let id: Int = lock.withLock {
            nextSleeperID += 1
            return nextSleeperID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let outcome: Result<Void, any Error>? = lock.withLock {
                    if Task.isCancelled { return .failure(CancellationError()) }
                    if deadline <= current { return .success(()) }
                    sleepers[id] = (deadline, continuation)
                    return nil
                }
                if let outcome { continuation.resume(with: outcome) }
            }
        } onCancel: {
            let sleeper = lock.withLock { sleepers.removeValue(forKey: id) }
            sleeper?.continuation.resume(throwing: CancellationError())
        }
    }
}

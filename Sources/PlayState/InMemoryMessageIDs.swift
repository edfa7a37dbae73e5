import Foundation
import PlayCounts

/// The committed message ids of a `:memory:` store, kept in hash tables instead of SQLite.
///
/// An in-memory store's ids only serve redeliveries within the run (nothing survives the process), so two
/// hash sets, one per generation (see `MessageGenerations`), do the job of a state file's two tables at a
/// fraction of the cost per message. `PlayStateStore` adds a batch's ids only after its transaction committed,
/// so a failed batch leaves none behind, exactly like the tables.
final class InMemoryMessageIDs: @unchecked Sendable {
    private let lock = NSLock()
    // Only touched with `lock` held.
    private var current = MessageKeySet(minimumCapacity: 1024)
    private var previous = MessageKeySet(minimumCapacity: 1)
    private var currentStartedAt: WallNanoseconds?

    /// Adds `keys` to the current generation (a key still in the previous one is kept again from now).
    func insert(_ keys: [MessageKey]) {
        lock.lock()
        defer { lock.unlock() }
        for key in keys { current.insert(key) }
    }

    /// Which of `keys` are present.
    func committed(_ keys: [MessageKey]) -> Set<MessageKey> {
        lock.lock()
        defer { lock.unlock() }
        return Set(keys.lazy.filter { self.current.contains($0) || self.previous.contains($0) })
    }

    /// Rotates the generations if the retention allows; returns how many ids were dropped.
    func prune(now: WallNanoseconds, retention: WallNanoseconds) -> Int {
        lock.lock()
        defer { lock.unlock() }
        switch MessageGenerations.step(startedAt: currentStartedAt, now: now, retention: retention) {
        case .keep:
            return 0
        case .start:
            currentStartedAt = now
            return 0
        case .rotate:
            let dropped = previous.count
            previous = current
            current = MessageKeySet(minimumCapacity: 1024)
            currentStartedAt = now
            return dropped
        }
    }

    /// Distinct ids kept, in either generation.
    var count: Int {
        lock.lock()
        defer { lock.unlock() }
        return previous.count + current.keys.lazy.filter { !self.previous.contains($0) }.count
    }
}

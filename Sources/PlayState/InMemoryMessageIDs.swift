import Foundation
import PlayCounts

/// The committed message ids of a `:memory:` store, kept in a hash table instead of SQLite.
///
/// An in-memory store's ids only serve redeliveries within the run (nothing survives the process), so a hash
/// table from key to commit time does the same job as the `committed_message` table at a fraction of the cost
/// per message. `PlayStateStore` adds a batch's ids only after its transaction committed, so a failed batch
/// leaves none behind, exactly like the table.
final class InMemoryMessageIDs: @unchecked Sendable {
    private let lock = NSLock()
    // Only touched with `lock` held.
    private var keys = MessageKeySet()
    /// When each key was last committed, by its index in `keys.keys`.
    private var committedAt: [WallNanoseconds] = []

    /// Adds `keys`, or refreshes their commit time when already present.
    func insert(_ keys: [MessageKey], committedAt time: WallNanoseconds) {
        lock.lock()
        defer { lock.unlock() }
        for key in keys {
            let (inserted, index) = self.keys.insert(key)
            if inserted { committedAt.append(time) } else { committedAt[index] = time }
        }
    }

    /// Which of `keys` are present.
    func committed(_ keys: [MessageKey]) -> Set<MessageKey> {
        lock.lock()
        defer { lock.unlock() }
        return Set(keys.lazy.filter { self.keys.contains($0) })
    }

    /// Drops ids committed before `cutoff`; returns how many (O(ids), run once a prune interval).
    func prune(before cutoff: WallNanoseconds) -> Int {
        lock.lock()
        defer { lock.unlock() }
        let before = keys.count
        var kept = MessageKeySet()
        var keptAt: [WallNanoseconds] = []
        for (key, time) in zip(keys.keys, committedAt) where time >= cutoff {
            kept.insert(key)
            keptAt.append(time)
        }
        keys = kept
        committedAt = keptAt
        return before - keys.count
    }

    var count: Int {
        lock.lock()
        defer { lock.unlock() }
        return keys.count
    }
}

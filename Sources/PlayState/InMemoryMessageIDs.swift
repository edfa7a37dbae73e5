import Foundation
import PlayCounts

/// The committed message ids of a `:memory:` store, kept in a hash table instead of SQLite.
///
/// An in-memory store's ids only serve redeliveries within the run (nothing survives the process), so a
/// dictionary from key to commit time does the same job as the `committed_message` table at a fraction of the
/// cost per message. `PlayStateStore` adds a batch's ids only after its transaction committed, so a failed
/// batch leaves none behind, exactly like the table.
final class InMemoryMessageIDs: @unchecked Sendable {
    private let lock = NSLock()
    /// Key → when it was last committed (only touched with `lock` held).
    private var committedAt: [MessageKey: WallNanoseconds] = [:]

    /// Adds `keys`, or refreshes their commit time when already present.
    func insert(_ keys: [MessageKey], committedAt time: WallNanoseconds) {
        lock.lock()
        defer { lock.unlock() }
        // No reserveCapacity here: it grows the table to exactly the size asked, rehashing every batch.
        for key in keys { committedAt[key] = time }
    }

    /// Which of `keys` are present.
    func committed(_ keys: [MessageKey]) -> Set<MessageKey> {
        lock.lock()
        defer { lock.unlock() }
        return Set(keys.lazy.filter { self.committedAt[$0] != nil })
    }

    /// Drops ids committed before `cutoff`; returns how many (O(ids), run once a prune interval).
    func prune(before cutoff: WallNanoseconds) -> Int {
        lock.lock()
        defer { lock.unlock() }
        let before = committedAt.count
        committedAt = committedAt.filter { $0.value >= cutoff }
        return before - committedAt.count
    }

    var count: Int {
        lock.lock()
        defer { lock.unlock() }
        return committedAt.count
    }
}

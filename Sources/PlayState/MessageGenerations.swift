import PlayCounts

/// How committed message ids expire: in two generations, dropped a whole generation at a time.
///
/// New ids go into the *current* generation; the other one is the *previous*. `prune(now:)` rotates once the
/// current generation started more than the retention ago: the previous generation is dropped whole, the
/// current one becomes the previous, and an empty one becomes current, starting now. Every id of the
/// previous generation was committed before the current one started, so nothing is dropped before the
/// retention has passed; an id is kept at most about twice the retention (plus one prune interval).
///
/// Why not expire ids one by one: that needs their commit times in an index, and in a state file the index
/// insert cost as much as the id's own row: dropping it doubled the commit throughput. Dropping a whole
/// table (or hash table) costs nothing per id.
enum MessageGenerations {
    /// What `prune(now:)` does to the generations.
    enum Step: Equatable {
        /// Nothing expired yet.
        case keep
        /// The current generation has no start yet (a new store): it starts now; nothing is dropped.
        case start
        /// Drop the previous generation; the current one becomes previous; an empty one starts now.
        case rotate
    }

    /// The step for a current generation that started at `startedAt` (nil: not yet), pruning at `now`.
    static func step(startedAt: WallNanoseconds?, now: WallNanoseconds, retention: WallNanoseconds) -> Step {
        guard let startedAt else { return .start }
        // The previous generation's ids were committed at or before `startedAt`: expired once it is older
        // than the retention (an id exactly at the edge is kept).
        return startedAt < now &- retention ? .rotate : .keep
    }
}

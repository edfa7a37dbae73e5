import PlayCounts

/// The plan's messages in shuffled order, one ``VideoID`` per play, drawn lazily from a Fenwick tree of
/// remaining counts (each step picks a remaining play uniformly), so it is deterministic for the seed and
/// uses O(videos) memory however many plays there are.
public struct SeedMessages: Sequence, Sendable {
    let videos: [VideoID]
    let counts: [Int]
    let seed: UInt64

    public var underestimatedCount: Int { counts.reduce(0, +) }

    public func makeIterator() -> Iterator {
        Iterator(videos: videos, counts: counts, seed: seed)
    }

    /// Message bodies `{"video_id":"<guid>"}` in the same order.
    public var bodies: LazyMapSequence<SeedMessages, [UInt8]> {
        lazy.map(SeedPlan.body(for:))
    }

    public struct Iterator: IteratorProtocol, Sendable {
        private let videos: [VideoID]
        private var tree: [Int]
        private var remaining: Int
        private var generator: SeededRandom
        private let topBit: Int

        init(videos: [VideoID], counts: [Int], seed: UInt64) {
            self.videos = videos
            self.generator = SeededRandom(seed: seed, stream: 2)
            // 1-based Fenwick tree over counts.
            var tree = [Int](repeating: 0, count: counts.count + 1)
            for (index, count) in counts.enumerated() {
                var node = index + 1
                while node < tree.count {
                    tree[node] += count
                    node += node & -node
                }
            }
            self.tree = tree
            self.remaining = counts.reduce(0, +)
            var bit = 1
            while bit * 2 <= counts.count { bit *= 2 }
            self.topBit = counts.isEmpty ? 0 : bit
        }

        public mutating func next() -> VideoID? {
            guard remaining > 0 else { return nil }
            var target = Int(generator.below(UInt64(remaining)))
            // Find the first position whose prefix sum exceeds target.
            var position = 0
            var bit = topBit
            while bit > 0 {
                let next = position + bit
                if next < tree.count, tree[next] <= target {
                    position = next
                    target -= tree[next]
                }
                bit >>= 1
            }
            // `position` is the 0-based video index; remove one play from it.
            var node = position + 1
            while node < tree.count {
                tree[node] -= 1
                node += node & -node
            }
            remaining -= 1
            return videos[position]
        }
    }
}

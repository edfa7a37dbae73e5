import HeapModule

/// Videos whose newest plays are not yet published and are not realtime, each with the instant by which it must
/// be published: the earliest safe deadline among its unpublished plays.
///
/// A dictionary gives the current deadline; a min-heap orders videos by deadline. Heap entries are never updated
/// in place: a video whose deadline moves earlier gets a second entry, and an entry whose deadline no longer
/// matches the dictionary (or whose video is no longer held) is stale and skipped when it reaches the top.
struct HeldVideos: Sendable {
    private struct Entry: Comparable, Sendable {
        var deadline: WallNanoseconds
        var video: VideoID
        static func < (lhs: Entry, rhs: Entry) -> Bool {
            (lhs.deadline, lhs.video) < (rhs.deadline, rhs.video)
        }
    }

    private var deadlines: [VideoID: WallNanoseconds] = [:]
    private var heap = Heap<Entry>()

    var count: Int { deadlines.count }
    var isEmpty: Bool { deadlines.isEmpty }

    /// The earliest deadline of any held video (the heap top is kept valid by every mutation).
    var earliestDeadline: WallNanoseconds? { heap.min?.deadline }

    func deadline(of video: VideoID) -> WallNanoseconds? { deadlines[video] }

    /// Holds `video` until `deadline`, or keeps its existing deadline when that is earlier.
    mutating func hold(_ video: VideoID, until deadline: WallNanoseconds) {
        if let existing = deadlines[video], existing <= deadline { return }
        deadlines[video] = deadline
        heap.insert(Entry(deadline: deadline, video: video))
        pruneTop()
    }

    mutating func release(_ video: VideoID) {
        guard deadlines.removeValue(forKey: video) != nil else { return }
        pruneTop()
    }

    /// Removes and returns the held video with the earliest deadline, if that deadline is at or before `limit`.
    mutating func popEarliest(dueBy limit: WallNanoseconds = .max) -> VideoID? {
        guard let top = heap.min, top.deadline <= limit else { return nil }
        heap.removeMin()
        deadlines.removeValue(forKey: top.video)
        pruneTop()
        return top.video
    }

    private mutating func pruneTop() {
        while let top = heap.min, deadlines[top.video] != top.deadline {
            heap.removeMin()
        }
    }
}

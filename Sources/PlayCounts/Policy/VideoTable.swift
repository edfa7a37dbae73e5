/// Per-video values in a dense array behind a `[VideoID: Int]` index. Counting a play costs one read-only hash
/// lookup, and the value is then changed in place in the array: measured, a dictionary's in-place
/// `dict[key, default: …]` update costs about twice a plain lookup, and the hot paths make several per play.
/// Videos are never removed (like the counts they hold).
struct VideoTable<Value: Sendable>: Sendable {
    private var index: [VideoID: Int] = [:]
    /// The videos in slot order.
    private(set) var videos: [VideoID] = []
    /// The values in slot order; change them in place through `values[slot]`.
    var values: [Value] = []
    private let initial: Value

    init(initial: Value) {
        self.initial = initial
    }

    var count: Int { values.count }

    /// The slot of `video`, added with the initial value the first time it is seen.
    @inline(__always)
    mutating func slot(of video: VideoID) -> Int {
        if let slot = index[video] { return slot }
        let slot = values.count
        index[video] = slot
        videos.append(video)
        values.append(initial)
        return slot
    }

    /// The slot of `video` if it was seen.
    @inline(__always)
    func existingSlot(of video: VideoID) -> Int? { index[video] }

    /// The value of `video`, or the initial value if it was never seen.
    func value(of video: VideoID) -> Value {
        guard let slot = index[video] else { return initial }
        return values[slot]
    }
}

import DenseTables

/// Per-video values in dense arrays behind an open-addressing index (see ``DenseTable``): counting a play
/// costs one hash lookup, and the value is then changed in place in `values[slot]`. Videos are never removed
/// (like the counts they hold). Video ids come from producers; the table's seeds are random.
typealias VideoTable<Value> = DenseTable<VideoID, Value>

extension VideoID: DenseTableKey {
    public var denseTableWords: (UInt64, UInt64) { (high, low) }
}

extension DenseTable where Key == VideoID {
    /// The videos in slot order.
    var videos: [VideoID] { keys }
}

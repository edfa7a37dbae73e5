/// Per-video values in dense arrays behind an open-addressing index. Counting a play costs one hash lookup,
/// and the value is then changed in place in the array. Videos are never removed (like the counts they hold).
///
/// Why not `[VideoID: Int]` for the index: with a million videos a dictionary takes about 50 MB per table
/// (2²¹ buckets of key and value) and hashes with SipHash; this index keeps only a 4-byte slot number per
/// bucket (the ids are already in `videos`), about 8 MB, and hashes with two multiplications. Video ids
/// come from producers, so the hash is seeded per table at random: colliding ids cannot be precomputed.
struct VideoTable<Value: Sendable>: Sendable {
    /// The videos in slot order.
    private(set) var videos: [VideoID] = []
    /// The values in slot order; change them in place through `values[slot]`.
    var values: [Value] = []
    private let initial: Value
    /// `0` for an empty bucket, else a slot plus one. Never more than half full.
    private var buckets: [UInt32] = Array(repeating: 0, count: 16)
    private var mask = 15
    private let seeds = (UInt64.random(in: .min ... .max), UInt64.random(in: .min ... .max))

    init(initial: Value) {
        self.initial = initial
    }

    var count: Int { values.count }

    /// The slot of `video`, added with the initial value the first time it is seen.
    @inline(__always)
    mutating func slot(of video: VideoID) -> Int {
        var bucket = self.bucket(of: video)
        while true {
            let entry = Int(buckets[bucket])
            if entry == 0 { break }
            if videos[entry - 1] == video { return entry - 1 }
            bucket = (bucket + 1) & mask
        }
        let slot = values.count
        videos.append(video)
        values.append(initial)
        buckets[bucket] = UInt32(truncatingIfNeeded: slot + 1)
        if values.count * 2 > buckets.count { grow() }
        return slot
    }

    /// The slot of `video` if it was seen.
    @inline(__always)
    func existingSlot(of video: VideoID) -> Int? {
        var bucket = self.bucket(of: video)
        while true {
            let entry = Int(buckets[bucket])
            if entry == 0 { return nil }
            if videos[entry - 1] == video { return entry - 1 }
            bucket = (bucket + 1) & mask
        }
    }

    /// The value of `video`, or the initial value if it was never seen.
    func value(of video: VideoID) -> Value {
        guard let slot = existingSlot(of: video) else { return initial }
        return values[slot]
    }

    private mutating func grow() {
        let size = buckets.count * 2
        buckets = Array(repeating: 0, count: size)
        mask = size - 1
        for (slot, video) in videos.enumerated() {
            var bucket = self.bucket(of: video)
            while buckets[bucket] != 0 { bucket = (bucket + 1) & mask }
            buckets[bucket] = UInt32(truncatingIfNeeded: slot + 1)
        }
    }

    @inline(__always)
    private func bucket(of video: VideoID) -> Int {
        // Folded multiplies (as in wyhash): every bit of both halves and the seeds reaches the bucket bits.
        // Both factors are seeded, so no id can force a factor to zero without knowing the seeds.
        let first = (video.high ^ seeds.0).multipliedFullWidth(by: video.low ^ seeds.1)
        let second = (first.high ^ 0x9E37_79B9_7F4A_7C15).multipliedFullWidth(by: first.low ^ 0xD6E8_FEB8_6659_FD93)
        return Int(truncatingIfNeeded: second.high ^ second.low) & mask
    }
}

/// A key of a ``DenseTable``: equal keys must give equal words. The table mixes the words with its own random
/// seeds, so the words need not be well distributed (an id's two halves, a video id's two halves).
public protocol DenseTableKey: Equatable, Sendable {
    /// 128 bits that identify the key.
    var denseTableWords: (UInt64, UInt64) { get }
}

/// Keys and values in dense arrays behind an open-addressing index: entries are never removed, each key gets
/// the next slot the first time it is seen, and a lookup costs one hash and, usually, one probe.
///
/// Why not `Dictionary`: it hashes with SipHash, on every lookup and again for every key each time it grows,
/// and keeps key and value in each bucket. Here the hash is two folded multiplications, growing moves 4-byte
/// slot numbers, and the index holds only those (a million keys: about 8 MB of index, against about 50 MB for
/// a dictionary of 16-byte keys and values). The seeds are random per table, so keys chosen by producers
/// cannot be made to collide without knowing them.
///
/// Every operation is `@inlinable`, so it is specialised for the key and value types in the modules that use
/// them: unspecialised, growing the index went through generic metadata lookups (5% of a drain's CPU).
public struct DenseTable<Key: DenseTableKey, Value> {
    /// The keys in slot order.
    public var keys: [Key] { storedKeys }
    @usableFromInline var storedKeys: [Key] = []
    /// The values in slot order; change them in place through `values[slot]`.
    public var values: [Value] = []
    @usableFromInline let initial: Value
    /// `0` for an empty bucket, else a slot plus one. Never more than half full.
    @usableFromInline var buckets: [UInt32]
    @usableFromInline var mask: Int
    @usableFromInline let seeds = (UInt64.random(in: .min ... .max), UInt64.random(in: .min ... .max))

    /// - Parameters:
    ///   - initial: the value a key gets when it is first seen.
    ///   - minimumCapacity: keys it takes before its index first grows.
    public init(initial: Value, minimumCapacity: Int = 8) {
        self.initial = initial
        var size = 16
        while size < minimumCapacity * 2 { size <<= 1 }
        buckets = Array(repeating: 0, count: size)
        mask = size - 1
    }

    public var count: Int { storedKeys.count }

    /// The slot of `key`, added with the initial value the first time it is seen.
    @inlinable @inline(__always)
    public mutating func slot(of key: Key) -> Int {
        insert(key).slot
    }

    /// Adds `key` (with the initial value) unless present; returns its slot and whether it was added.
    @inlinable @inline(__always) @discardableResult
    public mutating func insert(_ key: Key) -> (inserted: Bool, slot: Int) {
        var bucket = self.bucket(of: key)
        while true {
            let entry = Int(buckets[bucket])
            if entry == 0 { break }
            if storedKeys[entry - 1] == key { return (false, entry - 1) }
            bucket = (bucket + 1) & mask
        }
        let slot = storedKeys.count
        storedKeys.append(key)
        values.append(initial)
        buckets[bucket] = UInt32(truncatingIfNeeded: slot + 1)
        if storedKeys.count * 2 > buckets.count { grow() }
        return (true, slot)
    }

    /// The slot of `key` if it was seen.
    @inlinable @inline(__always)
    public func existingSlot(of key: Key) -> Int? {
        var bucket = self.bucket(of: key)
        while true {
            let entry = Int(buckets[bucket])
            if entry == 0 { return nil }
            if storedKeys[entry - 1] == key { return entry - 1 }
            bucket = (bucket + 1) & mask
        }
    }

    @inlinable
    public func contains(_ key: Key) -> Bool { existingSlot(of: key) != nil }

    /// The value of `key`, or the initial value if it was never seen.
    @inlinable
    public func value(of key: Key) -> Value {
        guard let slot = existingSlot(of: key) else { return initial }
        return values[slot]
    }

    @inlinable
    mutating func grow() {
        let size = buckets.count * 2
        buckets = Array(repeating: 0, count: size)
        mask = size - 1
        for (slot, key) in storedKeys.enumerated() {
            var bucket = self.bucket(of: key)
            while buckets[bucket] != 0 { bucket = (bucket + 1) & mask }
            buckets[bucket] = UInt32(truncatingIfNeeded: slot + 1)
        }
    }

    @inlinable @inline(__always)
    func bucket(of key: Key) -> Int {
        // Folded multiplies (as in wyhash): every bit of both words and both seeds reaches the bucket bits.
        // Both factors are seeded, so no key can force a factor to zero without knowing the seeds.
        let words = key.denseTableWords
        let first = (words.0 ^ seeds.0).multipliedFullWidth(by: words.1 ^ seeds.1)
        let second = (first.high ^ 0x9E37_79B9_7F4A_7C15).multipliedFullWidth(by: first.low ^ 0xD6E8_FEB8_6659_FD93)
        return Int(truncatingIfNeeded: second.high ^ second.low) & mask
    }
}

extension DenseTable: Sendable where Value: Sendable {}

extension DenseTable where Value == Void {
    /// A set: keys only, each with its slot (the order it was first inserted).
    public init(minimumCapacity: Int = 8) {
        self.init(initial: (), minimumCapacity: minimumCapacity)
    }
}

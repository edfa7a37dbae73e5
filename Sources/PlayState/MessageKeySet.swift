/// A set of `MessageKey`s: open addressing with linear probing over a power-of-two slot table.
///
/// Every play's key is inserted once, so this is the hottest structure of a `:memory:` store. `Set<MessageKey>`
/// hashes each key with SipHash, on insert and again for every key each time the table doubles; here a key's
/// hash is two multiplications, and growing moves 4-byte slot indices, not the keys. Message ids are assigned by
/// nsqd, not chosen by producers, so a fast unkeyed mix is enough; a per-set random seed still keeps two
/// processes from sharing collision patterns.
struct MessageKeySet {
    /// The keys, in insertion order.
    private(set) var keys: [MessageKey] = []
    /// `0` for an empty slot, else the key's index in `keys` plus one.
    private var slots: [UInt32]
    private var mask: Int
    private let seed = UInt64.random(in: .min ... .max)

    init(minimumCapacity: Int = 1024) {
        var size = 16
        while size < minimumCapacity * 2 { size <<= 1 }
        slots = Array(repeating: 0, count: size)
        mask = size - 1
    }

    var count: Int { keys.count }

    /// Adds `key` unless present; returns its index in `keys` and whether it was added.
    @discardableResult
    mutating func insert(_ key: MessageKey) -> (inserted: Bool, index: Int) {
        var slot = bucket(of: key)
        while true {
            let entry = Int(slots[slot])
            if entry == 0 { break }
            if keys[entry - 1] == key { return (false, entry - 1) }
            slot = (slot + 1) & mask
        }
        keys.append(key)
        slots[slot] = UInt32(keys.count)
        // At most half full: short probe sequences.
        if keys.count * 2 > slots.count { grow() }
        return (true, keys.count - 1)
    }

    /// The index of `key` in `keys`, if present.
    func index(of key: MessageKey) -> Int? {
        var slot = bucket(of: key)
        while true {
            let entry = Int(slots[slot])
            if entry == 0 { return nil }
            if keys[entry - 1] == key { return entry - 1 }
            slot = (slot + 1) & mask
        }
    }

    func contains(_ key: MessageKey) -> Bool { index(of: key) != nil }

    private mutating func grow() {
        let size = slots.count * 2
        slots = Array(repeating: 0, count: size)
        mask = size - 1
        for (index, key) in keys.enumerated() {
            var slot = bucket(of: key)
            while slots[slot] != 0 { slot = (slot + 1) & mask }
            slots[slot] = UInt32(index + 1)
        }
    }

    @inline(__always)
    private func bucket(of key: MessageKey) -> Int {
        // Folded multiply (as in wyhash): every input bit reaches the high bits, which the bucket takes.
        let folded = key.idHigh ^ (key.idLow &* 0x9E37_79B9_7F4A_7C15) ^ UInt64(bitPattern: key.timestamp) ^ seed
        let product = folded.multipliedFullWidth(by: 0xD6E8_FEB8_6659_FD93)
        let mixed = product.high ^ product.low
        return Int(truncatingIfNeeded: mixed) & mask
    }
}

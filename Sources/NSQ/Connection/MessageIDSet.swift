/// The ids of a connection's in-flight messages: open addressing with linear probing and backward-shift
/// deletion, so removal leaves no tombstones.
///
/// Every message is inserted when it arrives and removed when it is FIN'd or REQ'd, on the event loop, so this
/// is on the consumer's hottest path. `Set<NSQMessageID>` hashes each id with SipHash; here an id costs one
/// folded multiply. nsqd assigns the ids, and at most the RDY count of them (≤ 2,500 by default) are in flight,
/// so even a hostile server could only slow its own connection down; the seeds are random all the same.
struct MessageIDSet: Sendable {
    private var buckets: [NSQMessageID?]
    private var mask: Int
    private(set) var count = 0
    private let seeds = (UInt64.random(in: .min ... .max), UInt64.random(in: .min ... .max))

    init() {
        buckets = Array(repeating: nil, count: 64)
        mask = 63
    }

    var isEmpty: Bool { count == 0 }

    /// Adds `id`; false when it was already present.
    @discardableResult
    mutating func insert(_ id: NSQMessageID) -> Bool {
        var index = home(of: id)
        while let present = buckets[index] {
            if present == id { return false }
            index = (index + 1) & mask
        }
        buckets[index] = id
        count += 1
        if count * 2 > buckets.count { grow() }
        return true
    }

    func contains(_ id: NSQMessageID) -> Bool {
        var index = home(of: id)
        while let present = buckets[index] {
            if present == id { return true }
            index = (index + 1) & mask
        }
        return false
    }

    /// Removes `id`; false when it was not present.
    @discardableResult
    mutating func remove(_ id: NSQMessageID) -> Bool {
        var hole = home(of: id)
        while true {
            guard let present = buckets[hole] else { return false }
            if present == id { break }
            hole = (hole + 1) & mask
        }
        buckets[hole] = nil
        count -= 1
        // Shift back every later entry of the probe run that may not stay behind the hole.
        var next = (hole + 1) & mask
        while let entry = buckets[next] {
            let home = home(of: entry)
            let staysPut = hole <= next ? (hole < home && home <= next) : (hole < home || home <= next)
            if !staysPut {
                buckets[hole] = entry
                buckets[next] = nil
                hole = next
            }
            next = (next + 1) & mask
        }
        return true
    }

    mutating func removeAll() {
        for index in buckets.indices { buckets[index] = nil }
        count = 0
    }

    private mutating func grow() {
        let entries = buckets.compactMap { $0 }
        buckets = Array(repeating: nil, count: buckets.count * 2)
        mask = buckets.count - 1
        for id in entries {
            var index = home(of: id)
            while buckets[index] != nil { index = (index + 1) & mask }
            buckets[index] = id
        }
    }

    @inline(__always)
    private func home(of id: NSQMessageID) -> Int {
        let product = (id.high ^ seeds.0).multipliedFullWidth(by: id.low ^ seeds.1)
        return Int(truncatingIfNeeded: product.high ^ product.low) & mask
    }
}

@testable import PlayState
import Testing

/// The open-addressing set behind `:memory:` message ids, checked against `Set` on keys shaped like nsqd's
/// (hex ASCII ids that differ in a few bytes), across many growths.
@Suite struct MessageKeySetTests {
    /// An nsqd-like id: 16 hex digits of a counter, as ASCII bytes packed big-endian into two words.
    private func key(_ n: UInt64, timestamp: Int64 = 1_700_000_000_000_000_000) -> MessageKey {
        let hex = Array(String(n, radix: 16).leftPadded(to: 16).utf8)
        let high = hex[0..<8].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        let low = hex[8..<16].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        return MessageKey(idHigh: high, idLow: low, timestamp: timestamp)
    }

    @Test func agreesWithSetAcrossGrowths() {
        var set = MessageKeySet(minimumCapacity: 1)
        var reference = Set<MessageKey>()
        var generator = SystemRandomNumberGenerator()
        for step in 0..<50_000 {
            // Mostly new keys, some repeats (redeliveries), some equal ids with another timestamp.
            let n = UInt64.random(in: 0..<40_000, using: &generator)
            let candidate = step % 7 == 0 ? key(n, timestamp: 42) : key(n)
            let (inserted, index) = set.insert(candidate)
            #expect(inserted == reference.insert(candidate).inserted)
            #expect(set.keys[index] == candidate)
        }
        #expect(set.count == reference.count)
        for n in 0..<UInt64(45_000) {
            #expect(set.contains(key(n)) == reference.contains(key(n)))
            #expect(set.contains(key(n, timestamp: 42)) == reference.contains(key(n, timestamp: 42)))
        }
    }

    @Test func indexFindsWhatInsertReturned() {
        var set = MessageKeySet()
        let indices = (0..<UInt64(5000)).map { set.insert(key($0)).slot }
        #expect(indices == Array(0..<5000))
        #expect((0..<UInt64(5000)).allSatisfy { set.existingSlot(of: key($0)) == Int($0) })
        #expect(set.existingSlot(of: key(5000)) == nil)
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        String(repeating: "0", count: max(0, width - count)) + self
    }
}

import Testing

@testable import NSQ

/// The in-flight id set against `Set`, through random inserts and removals (backward-shift deletion must keep
/// every remaining id findable) and growth.
@Suite struct MessageIDSetTests {
    @Test func agreesWithSetThroughInsertsAndRemovals() {
        var set = MessageIDSet()
        var reference = Set<NSQMessageID>()
        var generator = SystemRandomNumberGenerator()
        // A small id space, so removals hit and probe runs form.
        let ids = (0..<3000).map { NSQMessageID(high: UInt64($0 % 7), low: UInt64($0)) }
        for step in 0..<60_000 {
            let id = ids.randomElement(using: &generator)!
            if step % 3 == 0 {
                #expect(set.remove(id) == (reference.remove(id) != nil))
            } else {
                #expect(set.insert(id) == reference.insert(id).inserted)
            }
            #expect(set.count == reference.count)
        }
        for id in ids { #expect(set.contains(id) == reference.contains(id)) }
        set.removeAll()
        #expect(set.isEmpty && !ids.contains { set.contains($0) })
    }
}

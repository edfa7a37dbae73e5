import Foundation
import PlayCounts
import PlayState
import Testing

/// Committed message ids, in both kinds of store: a file keeps a blob of them per commit, `:memory:` keeps
/// them in a hash table. Every batch size stores exactly its ids; repeated ids within one statement or across statements are stored once;
/// a failed batch leaves none behind.
@Suite struct PlayStateMessageInsertTests {
    /// Runs `body` with a fresh store in a temporary file (`inFile`) or in memory.
    private func withStore(
        inFile: Bool, options: PlayStateStore.Options = .init(), _ body: (PlayStateStore) throws -> Void
    ) throws {
        if !inFile { return try body(try PlayStateStore(path: PlayStateStore.inMemoryPath, options: options)) }
        try withTemporaryDirectory { directory in
            let store = try PlayStateStore(path: directory.appendingPathComponent("state.db").path, options: options)
            defer { try? store.close() }
            try body(store)
        }
    }

    @Test(arguments: [1, 7, 8, 9, 63, 64, 65, 72, 73, 128, 137, 2_500], [true, false])
    func everyBatchSizeStoresExactlyItsIds(size: Int, inFile: Bool) throws {
        try withStore(inFile: inFile) { store in
            let keys = (0..<UInt64(size)).map { key($0) }
            try store.commit(BatchCommit(messages: keys, countDeltas: [video(1): size]))

            #expect(try store.committedMessageCount() == size)
            #expect(try store.alreadyCommitted(keys) == Set(keys))
            let others = [key(UInt64(size)), key(UInt64(size) + 1), key(0, timestamp: 1)]
            #expect(try store.alreadyCommitted(others).isEmpty)
            #expect(try store.load().counts == [video(1): size])
        }
    }

    @Test(arguments: [true, false])
    func repeatedIdsInOneBatchAreStoredOnce(inFile: Bool) throws {
        try withStore(inFile: inFile) { store in
            // 150 keys over 40 distinct ids: repeats fall inside one 64-row statement and across statements.
            let keys = (0..<150).map { key(UInt64($0 % 40)) }
            try store.commit(BatchCommit(messages: keys, countDeltas: [:]))
            #expect(try store.committedMessageCount() == 40)
            #expect(try store.alreadyCommitted(keys) == Set(keys))
        }
    }

    /// A file finds a redelivered key through the queue-timestamp range of each commit's row: ranges that
    /// overlap, nest or stand apart, lookups that mix committed keys with ids never committed, with a
    /// committed id under another timestamp, and with timestamps inside a range that holds other keys.
    @Test(arguments: [true, false])
    func lookupsFindExactlyTheCommittedKeysWhateverTheirTimestamps(inFile: Bool) throws {
        try withStore(inFile: inFile) { store in
            var generator = SystemRandomNumberGenerator()
            var committed: Set<MessageKey> = []
            var nextID: UInt64 = 0
            for _ in 0..<200 {
                let base = Int64.random(in: 0..<1_000, using: &generator)
                let spread = Int64.random(in: 0..<200, using: &generator)
                let keys = (0..<Int.random(in: 1...40, using: &generator)).map { _ in
                    nextID += 1
                    return key(nextID, timestamp: base + Int64.random(in: 0...spread, using: &generator))
                }
                try store.commit(BatchCommit(messages: keys, countDeltas: [:]))
                committed.formUnion(keys)
            }
            for _ in 0..<50 {
                var asked = Array(committed.shuffled(using: &generator).prefix(Int.random(in: 0...60, using: &generator)))
                asked += (0..<20).map { _ in
                    let timestamp = Int64.random(in: -10..<1_250, using: &generator)
                    return Bool.random(using: &generator)
                        ? key(UInt64.random(in: nextID + 1..<nextID + 1_000, using: &generator), timestamp: timestamp)
                        : key(UInt64.random(in: 1...nextID, using: &generator), timestamp: timestamp)
                }
                #expect(try store.alreadyCommitted(asked) == Set(asked).intersection(committed))
            }
            #expect(try store.committedMessageCount() == committed.count)
        }
    }

    @Test(arguments: [true, false])
    func aFailedBatchLeavesNoIds(inFile: Bool) throws {
        try withStore(inFile: inFile) { store in
            try store.commit(BatchCommit(messages: [key(1)], countDeltas: [video(1): Int.max]))
            let keys = (2..<UInt64(80)).map { key($0) }
            // The upsert overflows the count after the ids were written: the whole batch rolls back.
            #expect(throws: PlayStateStoreError.self) {
                try store.commit(BatchCommit(messages: keys, countDeltas: [video(1): 1]))
            }
            #expect(try store.alreadyCommitted(keys).isEmpty)
            #expect(try store.committedMessageCount() == 1)
        }
    }

    @Test func aClosedInMemoryStoreRefusesIdLookups() throws {
        let store = try PlayStateStore(path: PlayStateStore.inMemoryPath)
        try store.commit(BatchCommit(messages: [key(1)], countDeltas: [:]))
        try store.close()
        #expect(throws: PlayStateStoreError.self) { _ = try store.alreadyCommitted([key(1)]) }
    }
}

import PlayCounts
import PlayState
import Testing

/// Message ids are inserted with multi-row statements (64, 8, then 1 row each): every batch size, including
/// those around the chunk boundaries, stores exactly its ids; repeated ids within one statement or across
/// statements are stored once and refresh their retention.
@Suite struct PlayStateMessageInsertTests {
    @Test(arguments: [1, 7, 8, 9, 63, 64, 65, 72, 73, 128, 137, 2_500])
    func everyBatchSizeStoresExactlyItsIds(size: Int) throws {
        let store = try PlayStateStore(path: PlayStateStore.inMemoryPath)
        let keys = (0..<UInt64(size)).map { key($0) }
        try store.commit(BatchCommit(messages: keys, countDeltas: [video(1): size], committedAt: 1))

        #expect(try store.committedMessageCount() == size)
        #expect(try store.alreadyCommitted(keys) == Set(keys))
        let others = [key(UInt64(size)), key(UInt64(size) + 1), key(0, timestamp: 1)]
        #expect(try store.alreadyCommitted(others).isEmpty)
        #expect(try store.load().counts == [video(1): size])
    }

    @Test func repeatedIdsInOneBatchAreStoredOnce() throws {
        let store = try PlayStateStore(path: PlayStateStore.inMemoryPath)
        // 150 keys over 40 distinct ids: repeats fall inside one 64-row statement and across statements.
        let keys = (0..<150).map { key(UInt64($0 % 40)) }
        try store.commit(BatchCommit(messages: keys, countDeltas: [:], committedAt: 1))
        #expect(try store.committedMessageCount() == 40)
        #expect(try store.alreadyCommitted(keys) == Set(keys))
    }

    @Test func recommittingIdsInMultiRowStatementsRefreshesTheirRetention() throws {
        let store = try PlayStateStore(path: PlayStateStore.inMemoryPath, options: .init(retention: minute))
        let keys = (0..<UInt64(100)).map { key($0) }
        try store.commit(BatchCommit(messages: keys, countDeltas: [:], committedAt: 0))
        try store.commit(BatchCommit(messages: Array(keys.prefix(70)), countDeltas: [:], committedAt: 2 * minute))

        #expect(try store.prune(now: 2 * minute) == 30)
        #expect(try store.alreadyCommitted(keys) == Set(keys.prefix(70)))
    }
}

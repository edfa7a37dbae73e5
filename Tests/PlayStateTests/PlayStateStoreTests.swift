import Foundation
import NSQ
import PlayCounts
import PlayState
import Testing

@Suite struct PlayStateStoreTests {
    @Test func freshStoreIsEmpty() throws {
        let store = try PlayStateStore(path: PlayStateStore.inMemoryPath)
        let snapshot = try store.load()
        #expect(snapshot.videos.isEmpty)
        #expect(snapshot.outbox == nil)
        #expect(snapshot.nextSequence == 1)
    }

    @Test func commitLoadRoundTrip() throws {
        try withTemporaryDirectory { directory in
            let store = try PlayStateStore(path: directory.appendingPathComponent("state.db").path)
            try store.commit(BatchCommit(
                messages: [key(1), key(2), key(3)],
                countDeltas: [video(1): 2, video(2): 1],
                earliestUnpublished: [video(1): 100, video(2): 200]))
            try store.commit(BatchCommit(
                messages: [key(4)],
                countDeltas: [video(1): 1, video(3): 1],
                earliestUnpublished: [video(1): 50, video(3): 300]))

            let snapshot = try store.load()
            #expect(snapshot.counts == [video(1): 3, video(2): 1, video(3): 1])
            #expect(snapshot.lastPublished.isEmpty)
            // The earlier timestamp wins: a deadline never moves later.
            #expect(snapshot.earliestUnpublished == [video(1): 50, video(2): 200, video(3): 300])
            #expect(snapshot.videos.map(\.video) == snapshot.videos.map(\.video).sorted())
        }
    }

    @Test func laterEarliestUnpublishedDoesNotMoveTheDeadline() throws {
        let store = try PlayStateStore(path: PlayStateStore.inMemoryPath)
        try store.commit(BatchCommit(messages: [], countDeltas: [video(1): 1], earliestUnpublished: [video(1): 10]))
        try store.commit(BatchCommit(messages: [], countDeltas: [video(1): 1], earliestUnpublished: [video(1): 99]))
        #expect(try store.load().earliestUnpublished == [video(1): 10])
    }

    @Test func groupCommitOfManyMessagesInOneTransaction() throws {
        let store = try PlayStateStore(path: PlayStateStore.inMemoryPath)
        let messages = (0..<5_000).map { key(UInt64($0)) }
        var deltas: [VideoID: Int] = [:]
        for index in 0..<5_000 { deltas[video(UInt64(index % 100)), default: 0] += 1 }
        try store.commit(BatchCommit(messages: messages, countDeltas: deltas))

        #expect(try store.committedMessageCount() == 5_000)
        let snapshot = try store.load()
        #expect(snapshot.videos.count == 100)
        #expect(snapshot.videos.allSatisfy { $0.plays == 50 })
        #expect(try store.alreadyCommitted(messages).count == 5_000)
    }

    @Test func aFailingBatchCommitsNothing() throws {
        let store = try PlayStateStore(path: PlayStateStore.inMemoryPath)
        // plays overflow Int64 on the second batch's upsert, after its message ids were inserted.
        try store.commit(BatchCommit(messages: [key(1)], countDeltas: [video(1): Int.max]))
        #expect(throws: PlayStateStoreError.self) {
            try store.commit(BatchCommit(messages: [key(2), key(3)], countDeltas: [video(1): 1]))
        }
        #expect(try store.alreadyCommitted([key(2), key(3)]).isEmpty)
        #expect(try store.load().counts == [video(1): Int.max])
    }

    @Test func dedupeFindsOnlyCommittedKeys() throws {
        let store = try PlayStateStore(path: PlayStateStore.inMemoryPath)
        try store.commit(BatchCommit(messages: [key(1), key(2)], countDeltas: [video(1): 2]))
        let asked = [key(1), key(2), key(3), key(1, timestamp: 42)]
        #expect(try store.alreadyCommitted(asked) == [key(1), key(2)])
        #expect(try store.alreadyCommitted([]).isEmpty)
    }

    @Test func messageKeyFromNSQMessage() throws {
        let id = try #require(NSQMessageID("0123456789abcdef"))
        let key = MessageKey(id: id, timestamp: 7)
        #expect(key.id == id)
        #expect(key.description == "0123456789abcdef@7")
    }

    @Test func outboxLifecycle() throws {
        let store = try PlayStateStore(path: PlayStateStore.inMemoryPath)
        try store.commit(BatchCommit(
            messages: [key(1)], countDeltas: [video(1): 120, video(2): 3],
            earliestUnpublished: [video(1): 10, video(2): 20]))

        let call = PublishCall(sequence: 1, publishedAt: 500, counts: [
            VideoCount(video: video(1), plays: 120), VideoCount(video: video(2), plays: 3),
        ])
        try store.recordCallStarted(call)
        var snapshot = try store.load()
        #expect(snapshot.outbox == call)
        #expect(snapshot.nextSequence == 2)
        #expect(snapshot.lastPublished.isEmpty)  // not acknowledged yet

        // A play for video 2 arrives while the call is in flight.
        try store.commit(BatchCommit(messages: [key(2)], countDeltas: [video(2): 1], earliestUnpublished: [video(2): 600]))
        try store.recordCallAcknowledged(call)
        snapshot = try store.load()
        #expect(snapshot.outbox == nil)
        #expect(snapshot.nextSequence == 2)
        #expect(snapshot.lastPublished == [video(1): 120, video(2): 3])
        // Video 1 is fully published; video 2 still has an unpublished play, so it keeps a deadline.
        #expect(snapshot.earliestUnpublished.keys.sorted() == [video(2)])
        #expect(snapshot.counts == [video(1): 120, video(2): 4])
    }

    @Test func acknowledgementCanSetTheExactEarliestUnpublished() throws {
        let store = try PlayStateStore(path: PlayStateStore.inMemoryPath)
        try store.commit(BatchCommit(messages: [], countDeltas: [video(1): 150, video(2): 5],
                                     earliestUnpublished: [video(1): 10, video(2): 20]))
        let call = PublishCall(sequence: 1, publishedAt: 30, counts: [
            VideoCount(video: video(1), plays: 150), VideoCount(video: video(2), plays: 5),
        ])
        try store.recordCallStarted(call)
        try store.commit(BatchCommit(messages: [], countDeltas: [video(1): 1]))
        // Video 2 is fully published: a timestamp given for it is ignored.
        try store.recordCallAcknowledged(call, stillUnpublishedSince: [video(1): 40, video(2): 41])
        #expect(try store.load().earliestUnpublished == [video(1): 40])
    }

    @Test func acknowledgingAnOlderCallKeepsTheNewerOutbox() throws {
        let store = try PlayStateStore(path: PlayStateStore.inMemoryPath)
        let first = PublishCall(sequence: 1, publishedAt: 1, counts: [])
        let second = PublishCall(sequence: 2, publishedAt: 2, counts: [VideoCount(video: video(9), plays: 1)])
        try store.recordCallStarted(first)
        try store.recordCallStarted(second)
        try store.recordCallAcknowledged(first)
        let snapshot = try store.load()
        #expect(snapshot.outbox == second)
        #expect(snapshot.nextSequence == 3)
    }

    @Test func inMemoryStoresAreIndependent() throws {
        let first = try PlayStateStore(path: PlayStateStore.inMemoryPath)
        let second = try PlayStateStore(path: PlayStateStore.inMemoryPath)
        try first.commit(BatchCommit(messages: [key(1)], countDeltas: [video(1): 1]))
        #expect(try first.load().videos.count == 1)
        #expect(try second.load().videos.isEmpty)
        #expect(try second.alreadyCommitted([key(1)]).isEmpty)
    }
}

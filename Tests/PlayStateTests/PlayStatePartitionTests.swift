import PlayCounts
import PlayState
import Testing

/// A state file counts one partition (or the whole topic) for good: another owner is refused, by name.
@Suite struct PlayStatePartitionTests {
    static let video = VideoID("0f8fad5b-d9cb-469f-a165-70867728950e")!

    func claimError(_ store: PlayStateStore, _ partition: Partition?) -> PlayStateStoreError? {
        do {
            try store.claim(partition: partition)
            return nil
        } catch let error as PlayStateStoreError {
            return error
        } catch {
            Issue.record("unexpected error type: \(error)")
            return nil
        }
    }

    @Test func theFirstClaimBindsTheFileToItsPartition() throws {
        try withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("p1.sqlite").path
            let first = try PlayStateStore(path: path)
            try first.claim(partition: Partition(index: 1, count: 3))
            try first.close()

            let reopened = try PlayStateStore(path: path)
            try reopened.claim(partition: Partition(index: 1, count: 3))  // the same owner again: fine
            let other = try #require(claimError(reopened, Partition(index: 2, count: 3)))
            #expect(other.kind == .otherPartition)
            #expect(other.description.contains("partition 1/3"))
            #expect(other.description.contains("partition 2/3"))
            #expect(claimError(reopened, Partition(index: 1, count: 4))?.kind == .otherPartition)
            #expect(claimError(reopened, nil)?.kind == .otherPartition)
            try reopened.close()
        }
    }

    @Test func aFileWithCountsAndNoClaimIsTheWholeTopics() throws {
        try withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("state.sqlite").path
            let store = try PlayStateStore(path: path)
            try store.commit(BatchCommit(messages: [], countDeltas: [Self.video: 3], earliestUnpublished: [:]))
            let error = try #require(claimError(store, Partition(index: 0, count: 2)))
            #expect(error.description.contains("the whole topic"))
            try store.claim(partition: nil)
            try store.close()
        }
    }
}

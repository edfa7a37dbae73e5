import Foundation
import PlayCounts
import PlayState
import Testing

/// Reopening a state file: after a clean close, after the store is dropped, and from a copy of the files taken
/// while the store was open (what a killed process leaves behind).
@Suite struct PlayStateRecoveryTests {
    private func fillState(_ store: PlayStateStore) throws -> PublishCall {
        try store.commit(BatchCommit(
            messages: (0..<100).map { key($0) }, countDeltas: [video(1): 60, video(2): 40],
            earliestUnpublished: [video(1): 11, video(2): 22]))
        let acknowledged = PublishCall(sequence: 1, publishedAt: 2_000, counts: [VideoCount(video: video(1), plays: 60)])
        try store.recordCallStarted(acknowledged)
        try store.recordCallAcknowledged(acknowledged)
        let inFlight = PublishCall(sequence: 2, publishedAt: 3_000, counts: [VideoCount(video: video(2), plays: 40)])
        try store.recordCallStarted(inFlight)
        return inFlight
    }

    private func expectRecovered(_ snapshot: PlayStateSnapshot, inFlight: PublishCall) {
        #expect(snapshot.counts == [video(1): 60, video(2): 40])
        #expect(snapshot.lastPublished == [video(1): 60])
        #expect(snapshot.earliestUnpublished == [video(2): 22])
        #expect(snapshot.outbox == inFlight)
        #expect(snapshot.nextSequence == 3)
    }

    @Test func reopenAfterClose() throws {
        try withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("state.db").path
            let store = try PlayStateStore(path: path)
            let inFlight = try fillState(store)
            try store.close()
            #expect(throws: PlayStateStoreError.self) { try store.load() }

            let reopened = try PlayStateStore(path: path)
            expectRecovered(try reopened.load(), inFlight: inFlight)
            #expect(try reopened.alreadyCommitted([key(0), key(99), key(100)]) == [key(0), key(99)])
        }
    }

    @Test func reopenAfterDroppingWithoutClose() throws {
        try withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("state.db").path
            var inFlight: PublishCall?
            do {
                let store = try PlayStateStore(path: path)
                inFlight = try fillState(store)
            }
            let reopened = try PlayStateStore(path: path)
            expectRecovered(try reopened.load(), inFlight: try #require(inFlight))
        }
    }

    @Test func recoverFromFilesCopiedWhileOpen() throws {
        try withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("state.db").path
            let store = try PlayStateStore(path: path)
            let inFlight = try fillState(store)
            // The store is still open: its last transactions live in the -wal file only, as after a kill -9.
            #expect(FileManager.default.fileExists(atPath: path + "-wal"))
            let crashed = directory.appendingPathComponent("crashed.db").path
            for suffix in ["", "-wal"] {
                try FileManager.default.copyItem(atPath: path + suffix, toPath: crashed + suffix)
            }
            let recovered = try PlayStateStore(path: crashed)
            expectRecovered(try recovered.load(), inFlight: inFlight)
            #expect(try recovered.alreadyCommitted([key(5)]) == [key(5)])
            withExtendedLifetime(store) {}
        }
    }

    @Test func usesWriteAheadLogging() throws {
        try withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("state.db").path
            let store = try PlayStateStore(path: path)
            try store.commit(BatchCommit(messages: [key(1)], countDeltas: [video(1): 1]))
            #expect(FileManager.default.fileExists(atPath: path + "-wal"))
            #expect(FileManager.default.fileExists(atPath: path + "-shm"))
            try store.checkIntegrity()
        }
    }
}

import Foundation
import PlayCounts
import PlayState
import Testing

/// Accepts every call and remembers it.
actor CollectingClient: PublishClient {
    private(set) var calls: [PublishCall] = []
    nonisolated var description: String { "collecting" }
    func publish(_ call: PublishCall) async throws { calls.append(call) }
}

/// Refuses every call, like a client that is down when the process dies.
struct DownClient: PublishClient {
    struct Down: Error {}
    var description: String { "down" }
    func publish(_ call: PublishCall) async throws { throw Down() }
}

/// A processor journaling to a state file, "crashed" (dropped without stop) and resumed by a new one.
@Suite("Processor resume from the state store")
struct ProcessorResumeTests {
    let now: WallNanoseconds = 1_700_000_000_000_000_000

    @Test func unacknowledgedCallIsResentWithItsSequenceAfterARestart() async throws {
        try await withTemporaryDirectoryAsync { directory in
            let path = directory.appendingPathComponent("state.sqlite").path
            let clock = ManualWallClock(now: now)
            // First run: one batch committed and counted; its call is started but the client is down.
            do {
                let store = try PlayStateStore(path: path)
                try store.commit(BatchCommit(
                    messages: [key(1), key(2), key(3)], countDeltas: [video(1): 2, video(2): 1],
                    earliestUnpublished: [video(1): now - 10, video(2): now - 5]))
                let processor = PlayProcessor(client: DownClient(), clock: clock, journal: StoreCallJournal(store: store))
                await processor.restore(from: try store.load())
                await processor.accept(plays([video(1), video(1), video(2)]))
                await processor.publishPending()
                #expect(await processor.status().consecutiveFailures == 1)
            }
            // Second run: the outbox call goes first with sequence 1, then new calls continue at 2.
            let store = try PlayStateStore(path: path)
            let snapshot = try store.load()
            #expect(snapshot.outbox?.sequence == 1)
            #expect(snapshot.nextSequence == 2)
            let client = CollectingClient()
            let processor = PlayProcessor(client: client, clock: clock, journal: StoreCallJournal(store: store))
            await processor.restore(from: snapshot)
            await processor.publishPending()
            let first = try #require(await client.calls.first)
            #expect(first.sequence == 1)
            #expect(Set(first.counts) == [VideoCount(video: video(1), plays: 2), VideoCount(video: video(2), plays: 1)])

            try store.commit(BatchCommit(messages: [key(4)], countDeltas: [video(3): 1], earliestUnpublished: [video(3): now]))
            await processor.accept(plays([video(3)]))
            await processor.publishPending()
            #expect(await client.calls.map(\.sequence) == [1, 2])
            let after = try store.load()
            #expect(after.outbox == nil)
            #expect(after.videos.allSatisfy { $0.published == $0.plays && $0.earliestUnpublished == nil })
            try store.close()
        }
    }

    func plays(_ videos: [VideoID]) -> [Play] {
        videos.map { Play(video: $0, queuedAt: now - 1_000, receivedAt: now) }
    }
}

/// `withTemporaryDirectory` for async bodies.
func withTemporaryDirectoryAsync(_ body: (URL) async throws -> Void) async throws {
    let directory = FileManager.default.temporaryDirectory
        .appendingPathComponent("playstate-tests-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    try await body(directory)
}

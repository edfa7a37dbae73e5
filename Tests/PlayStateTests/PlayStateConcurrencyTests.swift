import Foundation
import PlayCounts
import PlayState
import Testing

/// The store is Sendable: concurrent callers are serialised, every batch lands whole.
@Suite struct PlayStateConcurrencyTests {
    @Test func concurrentCommitsFromManyTasksAllLand() async throws {
        try await withTemporaryDirectoryAsync { directory in
            let store = try PlayStateStore(
                path: directory.appendingPathComponent("state.db").path, options: .init(fullSync: true))
            let tasks = 8
            let batchesPerTask = 25
            let messagesPerBatch = 40
            try await withThrowingTaskGroup(of: Void.self) { group in
                for task in 0..<tasks {
                    group.addTask {
                        for batch in 0..<batchesPerTask {
                            let base = UInt64((task * batchesPerTask + batch) * messagesPerBatch)
                            try store.commit(BatchCommit(
                                messages: (0..<UInt64(messagesPerBatch)).map { key(base + $0) },
                                countDeltas: [video(UInt64(task % 3)): messagesPerBatch]))
                        }
                    }
                }
                try await group.waitForAll()
            }
            let total = tasks * batchesPerTask * messagesPerBatch
            #expect(try store.committedMessageCount() == total)
            let counts = try store.load().counts
            #expect(counts.values.reduce(0, +) == total)
            #expect(counts[video(0)] == 3 * batchesPerTask * messagesPerBatch)
        }
    }
}

private func withTemporaryDirectoryAsync<T>(_ body: (URL) async throws -> T) async throws -> T {
    let directory = FileManager.default.temporaryDirectory
        .appendingPathComponent("playstate-tests-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    return try await body(directory)
}

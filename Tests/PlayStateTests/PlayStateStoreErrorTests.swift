import Foundation
import GRDB
import PlayCounts
import PlayState
import Testing

/// Bad state files give a typed error naming the path, never a crash.
@Suite struct PlayStateStoreErrorTests {
    private func openError(_ path: String) -> PlayStateStoreError? {
        do {
            _ = try PlayStateStore(path: path)
            return nil
        } catch let error as PlayStateStoreError {
            return error
        } catch {
            Issue.record("unexpected error type: \(error)")
            return nil
        }
    }

    @Test func randomBytesAreNotADatabase() throws {
        try withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("garbage.db").path
            var generator = SystemRandomNumberGenerator()
            let bytes = (0..<8192).map { _ in UInt8.random(in: 0...255, using: &generator) }
            try Data(bytes).write(to: URL(fileURLWithPath: path))

            let error = try #require(openError(path))
            #expect(error.kind == .notADatabase)
            #expect(error.path == path)
            #expect(error.description.contains(path))
            #expect(error.description.contains("not a database"))
        }
    }

    @Test func textFileIsNotADatabase() throws {
        try withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("notes.txt").path
            try Data(String(repeating: "video_id,plays\n", count: 200).utf8).write(to: URL(fileURLWithPath: path))
            #expect(try #require(openError(path)).kind == .notADatabase)
        }
    }

    @Test func missingDirectoryCannotBeOpened() throws {
        try withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("no/such/dir/state.db").path
            let error = try #require(openError(path))
            #expect(error.kind == .cannotOpen)
            #expect(error.path == path)
        }
    }

    @Test func anotherApplicationsDatabaseIsRefusedUntouched() throws {
        try withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("other.db").path
            // An SQLite file made by someone else: one table, no application id.
            try DatabaseQueue(path: path).write { db in
                try db.execute(sql: "CREATE TABLE contacts (name TEXT)")
            }
            let error = try #require(openError(path))
            #expect(error.kind == .notAPlayStateFile)
            let tables = try DatabaseQueue(path: path).read { db in
                try String.fetchAll(db, sql: "SELECT name FROM sqlite_master ORDER BY name")
            }
            #expect(tables == ["contacts"])
        }
    }

    @Test func newerSchemaIsRefused() throws {
        try withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("state.db").path
            try PlayStateStore(path: path).close()
            try DatabaseQueue(path: path).write { db in
                try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v99-from-the-future')")
            }
            let error = try #require(openError(path))
            #expect(error.kind == .newerSchema)
        }
    }

    @Test func damagedPagesGiveACorruptError() throws {
        try withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("state.db").path
            do {
                let store = try PlayStateStore(path: path)
                var deltas: [VideoID: Int] = [:]
                for index in 0..<20_000 { deltas[video(UInt64(index))] = index + 1 }
                try store.commit(BatchCommit(messages: [], countDeltas: deltas))
                try store.close()  // checkpoints the WAL into the main file
            }
            // Overwrite everything after the first two pages (header + schema) with garbage.
            let handle = try FileHandle(forUpdating: URL(fileURLWithPath: path))
            let size = try handle.seekToEnd()
            #expect(size > 3 * 4096)
            try handle.seek(toOffset: 2 * 4096)
            try handle.write(contentsOf: Data(repeating: 0xA5, count: Int(size) - 2 * 4096))
            try handle.close()

            do {
                let store = try PlayStateStore(path: path)
                _ = try store.load()
                try store.checkIntegrity()
                Issue.record("a damaged file loaded without error")
            } catch let error as PlayStateStoreError {
                #expect(error.kind == .corrupt)
                #expect(error.path == path)
            }
        }
    }
}

import Foundation
import GRDB
import PlayCounts

/// The committed message ids of a state file: one row per commit, holding its keys as a `MessageKeyBlob`
/// and the range of their queue timestamps, in two generation tables (see `MessageGenerations`).
///
/// A row per commit instead of a row per message: SQLite's cost per row (the VDBE program, the b-tree insert,
/// the pages written to the WAL) was most of a state file's commit. Lookups are rare (only redeliveries
/// are looked up) and use the timestamp range: a redelivered message keeps the timestamp nsqd gave it, so
/// only the rows whose range holds that timestamp are read and searched.
enum CommittedMessageTables {
    /// The table of each generation, by the name `message_generation.current` holds.
    static let tables = ["a": "committed_chunk_a", "b": "committed_chunk_b"]

    /// Creates one generation table and the index of its timestamp ranges (which covers the range query).
    static func createSQL(_ table: String) -> String {
        """
        CREATE TABLE \(table) (
            id INTEGER PRIMARY KEY,
            first_queued_at INTEGER NOT NULL,
            last_queued_at INTEGER NOT NULL,
            keys BLOB NOT NULL
        ) STRICT;
        CREATE INDEX \(table)_by_time ON \(table) (last_queued_at, first_queued_at);
        """
    }

    /// The current generation: its name, its table and when it started (nil: not yet).
    static func current(_ db: Database, path: String) throws -> (name: String, table: String, startedAt: WallNanoseconds?) {
        guard let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT current, started_at FROM message_generation")),
              let name = row[0] as String?, let table = tables[name]
        else {
            throw PlayStateStoreError(kind: .corrupt, path: path, detail: "the message generation row is missing or invalid")
        }
        return (name, table, row[1])
    }

    /// Stores `keys` as one row of `table`.
    static func insert(_ keys: [MessageKey], into table: String, in db: Database) throws {
        guard let range = timestampRange(of: keys) else { return }
        try db.cachedStatement(sql: "INSERT INTO \(table) (first_queued_at, last_queued_at, keys) VALUES (?, ?, ?)")
            .execute(arguments: [range.lowerBound, range.upperBound, Data(MessageKeyBlob.encode(keys))])
    }

    /// The earliest and latest queue timestamps of `keys` (nil when empty).
    private static func timestampRange(of keys: [MessageKey]) -> ClosedRange<WallNanoseconds>? {
        guard var low = keys.first?.timestamp else { return nil }
        var high = low
        for key in keys {
            low = min(low, key.timestamp)
            high = max(high, key.timestamp)
        }
        return low...high
    }

    /// Which of `keys` are stored, in either generation.
    static func committed(_ keys: [MessageKey], in db: Database, path: String) throws -> Set<MessageKey> {
        guard let range = timestampRange(of: keys) else { return [] }
        var found: Set<MessageKey> = []
        for table in tables.values.sorted() {
            let ranges = try Row.fetchAll(
                db.cachedStatement(sql: """
                    SELECT id, first_queued_at, last_queued_at FROM \(table) WHERE last_queued_at >= ? AND first_queued_at <= ?
                    """),
                arguments: [range.lowerBound, range.upperBound])
            for range in ranges {
                let (id, first, last): (Int64, Int64, Int64) = (range[0], range[1], range[2])
                let candidates = keys.filter { first <= $0.timestamp && $0.timestamp <= last && !found.contains($0) }
                if candidates.isEmpty { continue }
                let stored = Set(try chunk(id, of: table, in: db, path: path))
                for key in candidates where stored.contains(key) { found.insert(key) }
            }
        }
        return found
    }

    /// Rotates the generations if the retention allows (see `MessageGenerations`); returns how many ids were
    /// dropped.
    static func prune(now: WallNanoseconds, retention: WallNanoseconds, in db: Database, path: String) throws -> Int {
        let current = try current(db, path: path)
        switch MessageGenerations.step(startedAt: current.startedAt, now: now, retention: retention) {
        case .keep:
            return 0
        case .start:
            try db.execute(sql: "UPDATE message_generation SET started_at = ?", arguments: [now])
            return 0
        case .rotate:
            let next = current.name == "a" ? "b" : "a"
            guard let nextTable = tables[next] else { return 0 }
            // The other table holds the previous generation: expired whole. Emptied, it becomes current.
            let dropped = try keyCount(of: nextTable, in: db)
            try db.execute(sql: "DELETE FROM \(nextTable)")
            try db.execute(sql: "UPDATE message_generation SET current = ?, started_at = ?", arguments: [next, now])
            return dropped
        }
    }

    /// How many keys `table` holds (a key stored twice counts twice), without reading the blobs.
    private static func keyCount(of table: String, in db: Database) throws -> Int {
        let bytes = try Int.fetchOne(db, sql: "SELECT coalesce(sum(length(keys)), 0) FROM \(table)") ?? 0
        return bytes / MessageKeyBlob.bytesPerKey
    }

    /// Every distinct key stored, in either generation (O(keys)).
    static func distinctCount(in db: Database, path: String) throws -> Int {
        var keys: Set<MessageKey> = []
        for table in tables.values {
            for id in try Int64.fetchAll(db, sql: "SELECT id FROM \(table)") {
                keys.formUnion(try chunk(id, of: table, in: db, path: path))
            }
        }
        return keys.count
    }

    private static func chunk(_ id: Int64, of table: String, in db: Database, path: String) throws -> [MessageKey] {
        let blob = try Data.fetchOne(db.cachedStatement(sql: "SELECT keys FROM \(table) WHERE id = ?"), arguments: [id])
        guard let keys = blob?.withUnsafeBytes({ MessageKeyBlob.decode($0) }) else {
            throw PlayStateStoreError(
                kind: .corrupt, path: path,
                detail: "row \(id) of \(table) holds \(blob?.count ?? 0) bytes of message keys, not a multiple of \(MessageKeyBlob.bytesPerKey)")
        }
        return keys
    }
}

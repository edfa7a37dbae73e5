import GRDB

/// The state file's tables, created and upgraded by a `DatabaseMigrator`.
///
/// Video ids are kept as two INTEGER columns (their 128 bits bit-cast to signed 64-bit halves): SQLite stores
/// small and large integers compactly, compares them without memcmp on blobs, and binding two Int64 is cheaper
/// than building a 16-byte blob per row. The video table is WITHOUT ROWID so that the primary key *is* the
/// b-tree: one b-tree instead of a rowid table plus a unique index. Committed message ids are a blob per
/// commit (see `CommittedMessageTables`). Tables are STRICT so that an INTEGER overflow (which SQLite would
/// otherwise turn into a REAL) fails the transaction instead of storing an inexact count.
enum PlayStateSchema {
    /// `PRAGMA application_id` of every state file ("PLAY"), so opening some other SQLite database fails
    /// clearly instead of adding tables to it.
    static let applicationID: Int32 = 0x504C_4159

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE video (
                    id_high INTEGER NOT NULL,
                    id_low INTEGER NOT NULL,
                    plays INTEGER NOT NULL,
                    published INTEGER NOT NULL DEFAULT 0,
                    earliest_unpublished INTEGER,
                    PRIMARY KEY (id_high, id_low)
                ) WITHOUT ROWID, STRICT;

                CREATE TABLE committed_message (
                    id_high INTEGER NOT NULL,
                    id_low INTEGER NOT NULL,
                    queued_at INTEGER NOT NULL,
                    committed_at INTEGER NOT NULL,
                    PRIMARY KEY (id_high, id_low, queued_at)
                ) WITHOUT ROWID, STRICT;
                CREATE INDEX committed_message_by_time ON committed_message (committed_at);

                CREATE TABLE publisher (
                    singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
                    next_sequence INTEGER NOT NULL,
                    outbox_sequence INTEGER,
                    outbox_published_at INTEGER,
                    outbox_counts BLOB
                ) STRICT;
                INSERT INTO publisher (singleton, next_sequence) VALUES (1, 1);

                PRAGMA application_id = \(applicationID);
                """)
        }
        // Committed message ids move from a row per message, indexed by commit time for pruning, to a row per
        // commit in two generation tables (see `CommittedMessageTables` and `MessageGenerations`).
        migrator.registerMigration("v2") { db in
            try db.execute(sql: CommittedMessageTables.tables.values.sorted().map(CommittedMessageTables.createSQL).joined(separator: "\n"))
            try db.execute(sql: """
                CREATE TABLE message_generation (
                    singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
                    current TEXT NOT NULL CHECK (current IN ('a', 'b')),
                    started_at INTEGER
                ) STRICT;
                -- The ids carried over start the current generation at the oldest one's commit.
                INSERT INTO message_generation (singleton, current, started_at)
                    VALUES (1, 'a', (SELECT min(committed_at) FROM committed_message));
                """)
            var keys: [MessageKey] = []
            let rows = try Row.fetchCursor(db, sql: "SELECT id_high, id_low, queued_at FROM committed_message ORDER BY queued_at")
            while let row = try rows.next() {
                let (high, low, queuedAt): (Int64, Int64, Int64) = (row[0], row[1], row[2])
                keys.append(MessageKey(idHigh: UInt64(bitPattern: high), idLow: UInt64(bitPattern: low), timestamp: queuedAt))
                if keys.count == 512 {
                    try CommittedMessageTables.insert(keys, into: "committed_chunk_a", in: db)
                    keys.removeAll(keepingCapacity: true)
                }
            }
            try CommittedMessageTables.insert(keys, into: "committed_chunk_a", in: db)
            try db.execute(sql: "DROP TABLE committed_message")
        }
        // Which partition the counts are of (see `PlayStateStore.claim(partition:)`).
        migrator.registerMigration("v3") { db in
            try db.execute(sql: """
                CREATE TABLE owner (
                    singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
                    partition_index INTEGER,
                    partition_count INTEGER
                ) STRICT;
                """)
        }
        return migrator
    }
}

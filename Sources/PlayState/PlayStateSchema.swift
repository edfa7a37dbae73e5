import GRDB

/// The state file's tables, created and upgraded by a `DatabaseMigrator`.
///
/// Video ids and message ids are kept as two INTEGER columns (their 128 bits bit-cast to signed 64-bit
/// halves): SQLite stores small and large integers compactly, compares them without memcmp on blobs, and
/// binding two Int64 is cheaper than building a 16-byte blob per row. Both keyed tables are WITHOUT ROWID so
/// that the primary key *is* the b-tree: one b-tree per table instead of a rowid table plus a unique index.
/// Tables are STRICT so that an INTEGER overflow (which SQLite would otherwise turn into a REAL) fails the
/// transaction instead of storing an inexact count.
enum PlayStateSchema {
    /// `PRAGMA application_id` of every state file ("PLAY"), so opening some other SQLite database fails
    /// clearly instead of adding tables to it.
    static let applicationID: Int32 = 0x504C_4159

    /// The columns of both `committed_message_a` and `committed_message_b`: a message is nsqd's id plus the
    /// timestamp nsqd gave it (two nsqd nodes may reuse an id).
    static let committedMessageColumns = """
        id_high INTEGER NOT NULL, id_low INTEGER NOT NULL, queued_at INTEGER NOT NULL,
        PRIMARY KEY (id_high, id_low, queued_at)
        """

    /// The table of each message generation, by the name `message_generation.current` holds.
    static let committedMessageTables = ["a": "committed_message_a", "b": "committed_message_b"]

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
        // Committed message ids move to two generation tables (see `MessageGenerations`): the index on
        // `committed_at` that pruning needed cost as much per message as the id's own row.
        migrator.registerMigration("v2") { db in
            try db.execute(sql: """
                CREATE TABLE committed_message_a (\(committedMessageColumns)) WITHOUT ROWID, STRICT;
                CREATE TABLE committed_message_b (\(committedMessageColumns)) WITHOUT ROWID, STRICT;
                INSERT INTO committed_message_a SELECT id_high, id_low, queued_at FROM committed_message;

                CREATE TABLE message_generation (
                    singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
                    current TEXT NOT NULL CHECK (current IN ('a', 'b')),
                    started_at INTEGER
                ) STRICT;
                -- The ids carried over start the current generation at the oldest one's commit.
                INSERT INTO message_generation (singleton, current, started_at)
                    VALUES (1, 'a', (SELECT min(committed_at) FROM committed_message));

                DROP TABLE committed_message;
                """)
        }
        return migrator
    }
}

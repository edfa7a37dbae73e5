import Foundation
import GRDB
import PlayCounts

/// The processor's durable state: counts per video, what the client was last told, when each video's oldest
/// unpublished play arrived, the ids of recently committed messages (exactly-once counting over NSQ's
/// at-least-once delivery) and the outbox (the call made but not yet acknowledged).
///
/// One SQLite database through GRDB. A file path opens it in WAL mode (the file plus its `-wal` and `-shm`
/// companions); `:memory:` gives a throwaway store through the same code.
///
/// Durability: WAL with `synchronous = NORMAL`. A commit appends to the WAL without an fsync, so a *process*
/// crash loses nothing that `commit(_:)` returned for (the data is in the operating system's page cache), while
/// a *power loss or kernel crash* may lose the last few transactions — never corrupting the file: SQLite rolls
/// back to the last checkpointed or synced state. Those lost batches were already FIN'd, so their plays are
/// lost, not doubled; choose `synchronous = FULL` (`Options.fullSync`) to trade throughput for that case too.
///
/// All methods are synchronous and serialised on one connection; each call blocks the caller for the time of
/// one SQLite transaction (microseconds to a few milliseconds), so call them off any event loop.
public final class PlayStateStore: Sendable {
    /// Default retention of committed message ids: nsqd's maximum message timeout (15 min) plus a margin.
    /// A message committed but not FIN'd (crash) is redelivered within its timeout, so its id must outlive it.
    public static let defaultRetention: WallNanoseconds = 16 * 60 * 1_000_000_000

    /// Tuning knobs; the defaults suit the processor.
    public struct Options: Sendable {
        /// How long committed message ids are kept (`prune(now:)` drops older ones).
        public var retention: WallNanoseconds
        /// `synchronous = FULL` (fsync every commit) instead of `NORMAL`; see the type's doc comment.
        public var fullSync: Bool
        /// SQLite page cache in KiB; bounds the store's memory.
        public var cacheKiB: Int

        public init(retention: WallNanoseconds = PlayStateStore.defaultRetention, fullSync: Bool = false, cacheKiB: Int = 32 * 1024) {
            self.retention = retention
            self.fullSync = fullSync
            self.cacheKiB = cacheKiB
        }
    }

    /// The path the store was opened with (`:memory:` for an in-memory store).
    public let path: String
    public let options: Options
    private let queue: DatabaseQueue
    /// Guards `ClosedState`: GRDB crashes on use of a closed connection, so every access checks it first, under
    /// a lock that `close()` also takes.
    private let closedState = ClosedState()
    /// The committed message ids of a `:memory:` store (nil for a file, whose ids live in its tables).
    private let memoryIDs: InMemoryMessageIDs?

    /// The path that opens an in-memory store.
    public static let inMemoryPath = ":memory:"

    /// Opens (creating it if needed) the state file at `path`, or an in-memory store for `:memory:`.
    /// Throws `PlayStateStoreError` naming the path if the file cannot be opened, is not an SQLite database,
    /// belongs to another application, or was written by a newer schema.
    public init(path: String, options: Options = Options()) throws {
        self.path = path
        self.options = options
        let inMemory = path == Self.inMemoryPath
        memoryIDs = inMemory ? InMemoryMessageIDs() : nil
        var configuration = Configuration()
        configuration.label = "PlayStateStore"
        configuration.journalMode = inMemory ? .default : .wal
        configuration.prepareDatabase { [options] db in
            try db.execute(sql: """
                PRAGMA synchronous = \(options.fullSync ? "FULL" : "NORMAL");
                PRAGMA cache_size = -\(max(options.cacheKiB, 64));
                PRAGMA temp_store = MEMORY;
                PRAGMA journal_size_limit = \(64 * 1024 * 1024);
                """)
        }
        do {
            queue = try DatabaseQueue(path: path, configuration: configuration)
        } catch {
            throw Self.openError(error, path: path, doing: "opening")
        }
        do {
            let migrator = PlayStateSchema.migrator
            try queue.read { db in
                try Self.checkOwnership(db, path: path)
                if try migrator.hasBeenSuperseded(db) {
                    throw PlayStateStoreError(
                        kind: .newerSchema, path: path,
                        detail: "it has schema migrations this version does not know; use a newer playcount or another state file")
                }
            }
            try migrator.migrate(queue)
        } catch {
            throw Self.openError(error, path: path, doing: "reading the schema of")
        }
    }

    // MARK: - Counting

    /// Writes one read batch in one transaction: its message ids, the count deltas and the new earliest
    /// unpublished timestamps. When this returns, the batch's messages may be FIN'd.
    public func commit(_ batch: BatchCommit) throws {
        let memoryIDs = self.memoryIDs
        try perform("committing a batch of \(batch.messages.count) messages") { db in
            if memoryIDs == nil, !batch.messages.isEmpty {
                try CommittedMessageTables.insert(
                    batch.messages, into: try CommittedMessageTables.current(db, path: path).table, in: db)
            }
            if !batch.countDeltas.isEmpty || !batch.earliestUnpublished.isEmpty {
                // An existing earliest timestamp wins over a later one: the deadline never moves later.
                let upsertVideo = try db.cachedStatement(sql: """
                    INSERT INTO video (id_high, id_low, plays, published, earliest_unpublished) VALUES (?, ?, ?, 0, ?)
                    ON CONFLICT DO UPDATE SET
                        plays = plays + excluded.plays,
                        earliest_unpublished = coalesce(
                            min(earliest_unpublished, excluded.earliest_unpublished),
                            earliest_unpublished, excluded.earliest_unpublished)
                    """)
                let upsert = FastStatement(upsertVideo, in: db)
                for (video, delta) in batch.countDeltas {
                    try upsert.execute(
                        Int64(bitPattern: video.high), Int64(bitPattern: video.low), Int64(delta),
                        batch.earliestUnpublished[video], count: 4)
                }
                for (video, earliest) in batch.earliestUnpublished where batch.countDeltas[video] == nil {
                    try upsert.execute(Int64(bitPattern: video.high), Int64(bitPattern: video.low), 0, earliest, count: 4)
                }
            }
        }
        // Only once the transaction committed: a failed batch leaves no ids behind.
        memoryIDs?.insert(batch.messages)
    }

    /// Which of `keys` were committed (and not yet pruned). Only redeliveries need asking: a message delivered
    /// with `attempts == 1` has never been delivered before, so it cannot have been committed.
    public func alreadyCommitted(_ keys: [MessageKey]) throws -> Set<MessageKey> {
        if keys.isEmpty { return [] }
        if let memoryIDs {
            return try access("looking up \(keys.count) redelivered messages") { memoryIDs.committed(keys) }
        }
        let path = self.path
        return try read("looking up \(keys.count) redelivered messages") { db in
            try CommittedMessageTables.committed(keys, in: db, path: path)
        }
    }

    /// Forgets committed message ids past the retention, a generation at a time (see `MessageGenerations`):
    /// every id is kept at least the retention after its commit, and at most about twice that. Returns how
    /// many ids were dropped.
    @discardableResult
    public func prune(now: WallNanoseconds) throws -> Int {
        let retention = options.retention
        if let memoryIDs {
            return try access("pruning committed message ids") { memoryIDs.prune(now: now, retention: retention) }
        }
        let path = self.path
        return try perform("pruning committed message ids") { db in
            try CommittedMessageTables.prune(now: now, retention: retention, in: db, path: path)
        }
    }

    /// How many distinct committed message ids are kept (for tests and diagnostics; O(ids)).
    public func committedMessageCount() throws -> Int {
        if let memoryIDs { return try access("counting committed message ids") { memoryIDs.count } }
        let path = self.path
        return try read("counting committed message ids") { db in try CommittedMessageTables.distinctCount(in: db, path: path) }
    }

    // MARK: - Ownership

    /// Binds the file to the partition its counts are of (nil: the whole topic) on first use, and refuses it
    /// to a processor of another: its counts, published counts and sequences are that partition's, and an owner
    /// of another one would publish them as its own. A file from before partitions, holding counts, is the
    /// whole topic's.
    public func claim(partition: Partition?) throws {
        let path = self.path
        try perform("checking which partition the state file counts") { db in
            func describe(_ partition: Partition?) -> String { partition.map { "partition \($0)" } ?? "the whole topic" }
            let recorded: Partition?
            if let row = try Row.fetchOne(db, sql: "SELECT partition_index, partition_count FROM owner") {
                let index: Int? = row[0]
                let count: Int? = row[1]
                recorded = index.flatMap { index in count.flatMap { Partition(index: index, count: $0) } }
            } else if try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM video)") == true {
                recorded = nil
            } else {
                try db.execute(
                    sql: "INSERT INTO owner (singleton, partition_index, partition_count) VALUES (1, ?, ?)",
                    arguments: [partition?.index, partition?.count])
                return
            }
            guard recorded == partition else {
                throw PlayStateStoreError(
                    kind: .otherPartition, path: path,
                    detail: "it holds the counts of \(describe(recorded)), this processor counts \(describe(partition)); "
                        + "give each owner its own state file")
            }
        }
    }

    // MARK: - Publishing

    /// Records that `call` is about to be made: it becomes the outbox (replacing any previous one) and the next
    /// sequence moves past it. After a crash, `load()` returns it so the processor resends it unchanged.
    public func recordCallStarted(_ call: PublishCall) throws {
        let counts = Data(OutboxCounts.encode(call.counts))
        try perform("recording publish call \(call.sequence)") { db in
            try db.cachedStatement(sql: """
                UPDATE publisher SET
                    outbox_sequence = ?, outbox_published_at = ?, outbox_counts = ?,
                    next_sequence = max(next_sequence, ? + 1)
                WHERE singleton = 1
                """).execute(arguments: [call.sequence, call.publishedAt, counts, call.sequence])
        }
    }

    /// Records that the client acknowledged `call`: its counts become the last published counts, videos whose
    /// count now equals the published one lose their earliest-unpublished timestamp, and the outbox is cleared
    /// if it holds this call (or an older one).
    ///
    /// A video of the call that got more plays while the call was in flight keeps its stored timestamp, which
    /// may be older than its first play still unpublished (a conservative, earlier deadline after a restart).
    /// Pass that play's queue timestamp in `stillUnpublishedSince` to store the exact one instead.
    public func recordCallAcknowledged(
        _ call: PublishCall, stillUnpublishedSince: [VideoID: WallNanoseconds] = [:]
    ) throws {
        try perform("recording the acknowledgement of publish call \(call.sequence)") { db in
            let markPublished = FastStatement(try db.cachedStatement(sql: """
                UPDATE video SET
                    published = ?3,
                    earliest_unpublished = CASE WHEN plays <= ?3 THEN NULL ELSE coalesce(?4, earliest_unpublished) END
                WHERE id_high = ?1 AND id_low = ?2
                """), in: db)
            for count in call.counts {
                try markPublished.execute(
                    Int64(bitPattern: count.video.high), Int64(bitPattern: count.video.low), Int64(count.plays),
                    stillUnpublishedSince[count.video], count: 4)
            }
            try db.cachedStatement(sql: """
                UPDATE publisher SET
                    outbox_sequence = CASE WHEN outbox_sequence <= ?1 THEN NULL ELSE outbox_sequence END,
                    outbox_published_at = CASE WHEN outbox_sequence <= ?1 THEN NULL ELSE outbox_published_at END,
                    outbox_counts = CASE WHEN outbox_sequence <= ?1 THEN NULL ELSE outbox_counts END,
                    next_sequence = max(next_sequence, ?1 + 1)
                WHERE singleton = 1
                """).execute(arguments: [call.sequence])
        }
    }

    // MARK: - Recovery

    /// Everything needed to resume: every video's state, the outbox and the next sequence. Memory is
    /// proportional to the number of videos; message ids stay in SQLite.
    public func load() throws -> PlayStateSnapshot {
        let path = self.path
        return try read("loading the state") { db in
            var videos: [RestoredVideo] = []
            let rows = try Row.fetchCursor(db.cachedStatement(sql: """
                SELECT id_high, id_low, plays, published, earliest_unpublished FROM video
                """))
            while let row = try rows.next() {
                let high: Int64 = row[0]
                let low: Int64 = row[1]
                let plays: Int64 = row[2]
                let published: Int64 = row[3]
                let earliest: Int64? = row[4]
                videos.append(RestoredVideo(
                    video: VideoID(high: UInt64(bitPattern: high), low: UInt64(bitPattern: low)),
                    plays: Int(plays), published: Int(published), earliestUnpublished: earliest))
            }
            guard let publisher = try Row.fetchOne(db, sql: """
                SELECT next_sequence, outbox_sequence, outbox_published_at, outbox_counts FROM publisher WHERE singleton = 1
                """) else {
                throw PlayStateStoreError(kind: .corrupt, path: path, detail: "the publisher row is missing")
            }
            let nextSequence: Int = publisher[0]
            var outbox: PublishCall?
            if let sequence = publisher[1] as Int? {
                let publishedAt: Int64 = publisher[2] ?? 0
                let blob: Data = publisher[3] ?? Data()
                guard let counts = OutboxCounts.decode(Array(blob)) else {
                    throw PlayStateStoreError(
                        kind: .corrupt, path: path, detail: "the outbox call \(sequence) has \(blob.count) bytes of counts, not a multiple of \(OutboxCounts.bytesPerCount)")
                }
                outbox = PublishCall(sequence: sequence, publishedAt: publishedAt, counts: counts)
            }
            return PlayStateSnapshot(videos: videos, outbox: outbox, nextSequence: nextSequence)
        }
    }

    /// Reads every page of the file (O(file size)) and throws `.corrupt` if SQLite finds damage.
    public func checkIntegrity() throws {
        let path = self.path
        try read("checking integrity") { db in
            let problems = try String.fetchAll(db, sql: "PRAGMA quick_check")
            guard problems == ["ok"] else {
                throw PlayStateStoreError(kind: .corrupt, path: path, detail: problems.prefix(5).joined(separator: "; "))
            }
        }
    }

    /// Closes the file after checkpointing the WAL. Later calls throw. Dropping the store without closing is
    /// safe too (that is what a crash does).
    public func close() throws {
        closedState.lock.lock()
        defer { closedState.lock.unlock() }
        if closedState.isClosed { return }
        closedState.isClosed = true
        do { try queue.close() } catch { throw operationError(error, doing: "closing") }
    }

    // MARK: - Errors

    private func perform<T: Sendable>(_ doing: @autoclosure () -> String, _ body: @Sendable (Database) throws -> T) throws -> T {
        try access(doing()) { try queue.write(body) }
    }

    private func read<T: Sendable>(_ doing: @autoclosure () -> String, _ body: @Sendable (Database) throws -> T) throws -> T {
        try access(doing()) { try queue.read(body) }
    }

    private func access<T>(_ doing: String, _ body: () throws -> T) throws -> T {
        closedState.lock.lock()
        defer { closedState.lock.unlock() }
        guard !closedState.isClosed else {
            throw PlayStateStoreError(kind: .storageFailed, path: path, detail: "\(doing): the store was closed")
        }
        do {
            return try body()
        } catch {
            throw operationError(error, doing: doing)
        }
    }

    private func operationError(_ error: any Error, doing: String) -> PlayStateStoreError {
        if let error = error as? PlayStateStoreError { return error }
        guard let error = error as? DatabaseError else {
            return PlayStateStoreError(kind: .storageFailed, path: path, detail: "\(doing): \(error)")
        }
        let kind: PlayStateStoreError.Kind =
            switch error.resultCode {
            case .SQLITE_CORRUPT, .SQLITE_NOTADB, .SQLITE_MISMATCH: .corrupt
            default: .storageFailed
            }
        return PlayStateStoreError(kind: kind, path: path, detail: "\(doing): \(Self.describe(error))")
    }

    private static func openError(_ error: any Error, path: String, doing: String) -> PlayStateStoreError {
        if let error = error as? PlayStateStoreError { return error }
        guard let error = error as? DatabaseError else {
            return PlayStateStoreError(kind: .cannotOpen, path: path, detail: "\(doing) the file: \(error)")
        }
        let kind: PlayStateStoreError.Kind =
            switch error.resultCode {
            case .SQLITE_NOTADB: .notADatabase
            case .SQLITE_CORRUPT, .SQLITE_MISMATCH: .corrupt
            default: .cannotOpen
            }
        return PlayStateStoreError(kind: kind, path: path, detail: "\(doing) the file: \(describe(error))")
    }

    private static func describe(_ error: DatabaseError) -> String {
        "\(error.message ?? "SQLite error") (SQLite code \(error.extendedResultCode.rawValue))"
    }

    /// Refuses a non-empty database whose application id is not ours.
    private static func checkOwnership(_ db: Database, path: String) throws {
        let applicationID = try Int32.fetchOne(db, sql: "PRAGMA application_id") ?? 0
        if applicationID == PlayStateSchema.applicationID { return }
        let objectCount = try Int.fetchOne(db, sql: "SELECT count(*) FROM sqlite_master") ?? 0
        if objectCount == 0 && applicationID == 0 { return }
        throw PlayStateStoreError(
            kind: .notAPlayStateFile, path: path,
            detail: "it is an SQLite database of another application (application_id \(applicationID), \(objectCount) schema objects)")
    }
}

/// Whether `PlayStateStore.close()` ran; only touched with `lock` held.
private final class ClosedState: @unchecked Sendable {
    let lock = NSLock()
    var isClosed = false
}

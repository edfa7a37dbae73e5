import PlayCounts
import Locking

/// Keeps what the processor received — in memory for `audit` (at most `audit-memory` plays, about 32 bytes
/// each), and in the `record` file when one is set (the replayable receipt log, unbounded).
public final class ReceiptRecorder: Sendable {
    /// One read batch's plays as handed to the processor: a slice of its array, so keeping them copies
    /// nothing; `records` turns them into receipts when `audit` asks.
    private struct KeptBatch: Sendable {
        var batch: Int
        var plays: ArraySlice<Play>
    }

    private struct State {
        var records: KeptRecords<KeptBatch>
        var origin: WallNanoseconds?

        /// The instant `at_ms` counts from: the first play recorded (or the appended file's).
        mutating func origin(startingAt first: Play) -> WallNanoseconds {
            let origin = self.origin ?? first.receivedAt
            self.origin = origin
            return origin
        }
    }

    private let state: Locked<State>
    private let file: ReceiptLogFile?

    /// Added to the batch numbers: an appended log goes on from its last batch.
    private let batchOffset: Int

    /// - Parameter limit: the most plays kept in memory for `audit`; 0 keeps none.
    public init(file: ReceiptLogFile?, keepingInMemory limit: Int = AuditMemory.interactivePlays) {
        self.file = file
        self.batchOffset = file?.resumePoint?.lastBatch ?? 0
        self.state = Locked(State(records: KeptRecords(limit: limit), origin: file?.resumePoint?.origin))
    }

    /// Changes how many plays are kept in memory; call it before the first play is recorded.
    public func keepInMemory(atMost limit: Int) {
        state.withLock { $0.records = KeptRecords(limit: limit) }
    }

    /// True when a `record` file is set.
    public var writesFile: Bool { file != nil }

    /// The most plays kept in memory.
    public var memoryLimit: Int { state.withLock { $0.records.limit } }

    /// Writes plays of read batch `batch` to the `record` file *before* they are committed, each with the id
    /// of the message it came in (`messageIDs`, in the same order). A crash between this and the commit
    /// cannot leave a counted play out of the file: the play is delivered again, written again under the
    /// same message, and `audit` counts it once.
    public func writeAhead(_ plays: [Play], messageIDs: [String], batch: Int) {
        precondition(messageIDs.count == plays.count, "one message id per play")
        guard let file, !plays.isEmpty else { return }
        let origin = state.withLock { $0.origin(startingAt: plays[0]) }
        file.write(ReceiptLog.lines(for: zip(plays, messageIDs).lazy.map { play, id in
            self.receipt(play, batch: batch, origin: origin, messageID: id)
        }))
    }

    /// Keeps a read batch's plays in memory for `audit` once the batch is committed (this run's only, so
    /// without message ids: a batch is committed once). The slice shares its array's storage: nothing is copied.
    public func keep(_ plays: ArraySlice<Play>, batch: Int) {
        guard let first = plays.first else { return }
        state.withLock { state in
            guard state.records.limit > 0 else { return }
            _ = state.origin(startingAt: first)
            state.records.append(contentsOf: CollectionOfOne(KeptBatch(batch: batch, plays: plays)), cost: plays.count)
        }
    }

    /// The line of `play`, read in this run's batch `batch`.
    private func receipt(_ play: Play, batch: Int, origin: WallNanoseconds, messageID: String? = nil) -> ReceiptRecord {
        ReceiptRecord(
            atMs: (play.receivedAt - origin) / 1_000_000, video: play.video, queuedAt: play.queuedAt,
            receivedAt: play.receivedAt, batch: batch + batchOffset, messageID: messageID)
    }

    /// Every play received, in order; or why they were not kept in memory.
    public var records: Result<[ReceiptRecord], KeptRecordsShortfall> {
        let (kept, origin) = state.withLock { ($0.records.kept, $0.origin) }
        return kept.map { batches in
            guard let origin else { return [] }
            return batches.flatMap { kept in kept.plays.map { self.receipt($0, batch: kept.batch, origin: origin) } }
        }
    }

    public func close() { file?.close() }
}

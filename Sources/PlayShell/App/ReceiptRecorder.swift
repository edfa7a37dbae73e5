import PlayCounts

/// Keeps what the processor received — in memory for `audit` (at most `audit-memory` plays, 48 bytes each),
/// and in the `record` file when one is set (the replayable receipt log, unbounded).
final class ReceiptRecorder: Sendable {
    private struct State {
        var records: KeptRecords<ReceiptRecord>
        var origin: WallNanoseconds?
    }

    private let state: Locked<State>
    private let file: ReceiptLogFile?

    /// Added to the batch numbers: an appended log goes on from its last batch.
    private let batchOffset: Int

    /// - Parameter limit: the most plays kept in memory for `audit`; 0 keeps none.
    init(file: ReceiptLogFile?, keepingInMemory limit: Int = AuditMemory.interactivePlays) {
        self.file = file
        self.batchOffset = file?.resumePoint?.lastBatch ?? 0
        self.state = Locked(State(records: KeptRecords(limit: limit), origin: file?.resumePoint?.origin))
    }

    /// Changes how many plays are kept in memory; call it before the first play is recorded.
    func keepInMemory(atMost limit: Int) {
        state.withLock { $0.records = KeptRecords(limit: limit) }
    }

    /// False when plays go nowhere (no file, nothing kept in memory): the caller may skip recording.
    var isRecording: Bool { file != nil || memoryLimit > 0 }

    /// The most plays kept in memory.
    var memoryLimit: Int { state.withLock { $0.records.limit } }

    /// Records plays of read batch `batch`, each with the id of the message it came in (`messageIDs`, in the
    /// same order), before they are committed: a play whose commit a crash prevents is delivered and recorded
    /// again under the same message, and `audit` counts it once.
    func record(_ plays: [Play], messageIDs: [String], batch: Int) {
        precondition(messageIDs.count == plays.count, "one message id per play")
        guard let first = plays.first else { return }
        let batch = batch + batchOffset
        let records = state.withLock { state -> [ReceiptRecord] in
            let origin = state.origin ?? first.receivedAt
            state.origin = origin
            let records = zip(plays, messageIDs).map { play, id in
                ReceiptRecord(
                    atMs: (play.receivedAt - origin) / 1_000_000, video: play.video, queuedAt: play.queuedAt,
                    receivedAt: play.receivedAt, batch: batch, messageID: id)
            }
            if state.records.limit > 0 { state.records.append(contentsOf: records, cost: records.count) }
            return records
        }
        file?.write(ReceiptLog.lines(for: records))
    }

    /// Every play received, in order; or why they were not kept in memory.
    var records: Result<[ReceiptRecord], KeptRecordsShortfall> {
        state.withLock { $0.records.kept }
    }

    func close() { file?.close() }
}

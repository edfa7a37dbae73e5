import PlayCounts

/// Keeps what the processor received — in memory for `audit` (at most `audit-memory` plays, 64 bytes each),
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

    /// True when a `record` file is set.
    var writesFile: Bool { file != nil }

    /// The most plays kept in memory.
    var memoryLimit: Int { state.withLock { $0.records.limit } }

    /// Writes plays of read batch `batch` to the `record` file *before* they are committed, each with the id
    /// of the message it came in (`messageIDs`, in the same order). A crash between this and the commit
    /// cannot leave a counted play out of the file: the play is delivered again, written again under the
    /// same message, and `audit` counts it once.
    func writeAhead(_ plays: [Play], messageIDs: [String], batch: Int) {
        precondition(messageIDs.count == plays.count, "one message id per play")
        guard let file, !plays.isEmpty else { return }
        let batch = batch + batchOffset
        let origin = origin(plays)
        file.write(ReceiptLog.lines(for: zip(plays, messageIDs).lazy.map { play, id in
            ReceiptRecord(
                atMs: (play.receivedAt - origin) / 1_000_000, video: play.video, queuedAt: play.queuedAt,
                receivedAt: play.receivedAt, batch: batch, messageID: id)
        }))
    }

    /// Keeps a read batch's plays in memory for `audit` once the batch is committed (this run's only, so
    /// without message ids: a batch is committed once).
    func keep(_ plays: [Play], batch: Int) {
        guard !plays.isEmpty else { return }
        let batch = batch + batchOffset
        let origin = origin(plays)
        state.withLock { state in
            guard state.records.limit > 0 else { return }
            state.records.append(
                contentsOf: plays.lazy.map {
                    ReceiptRecord(
                        atMs: ($0.receivedAt - origin) / 1_000_000, video: $0.video, queuedAt: $0.queuedAt,
                        receivedAt: $0.receivedAt, batch: batch)
                },
                cost: plays.count)
        }
    }

    /// The instant `at_ms` counts from: the first play recorded (or the appended file's).
    private func origin(_ plays: [Play]) -> WallNanoseconds {
        state.withLock { state in
            let origin = state.origin ?? plays[0].receivedAt
            state.origin = origin
            return origin
        }
    }

    /// Every play received, in order; or why they were not kept in memory.
    var records: Result<[ReceiptRecord], KeptRecordsShortfall> {
        state.withLock { $0.records.kept }
    }

    func close() { file?.close() }
}

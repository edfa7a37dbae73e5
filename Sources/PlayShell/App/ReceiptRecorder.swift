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

    /// - Parameter limit: the most plays kept in memory for `audit`; 0 keeps none.
    init(file: ReceiptLogFile?, keepingInMemory limit: Int = AuditMemory.interactivePlays) {
        self.file = file
        self.state = Locked(State(records: KeptRecords(limit: limit)))
    }

    /// Changes how many plays are kept in memory; call it before the first play is recorded.
    func keepInMemory(atMost limit: Int) {
        state.withLock { $0.records = KeptRecords(limit: limit) }
    }

    /// The most plays kept in memory.
    var memoryLimit: Int { state.withLock { $0.records.limit } }

    /// Records one read batch.
    func record(_ plays: [Play], batch: Int) {
        guard let first = plays.first else { return }
        let origin = state.withLock { state -> WallNanoseconds in
            let origin = state.origin ?? first.receivedAt
            state.origin = origin
            if state.records.limit > 0 {
                state.records.append(
                    contentsOf: plays.lazy.map {
                        ReceiptRecord(
                            atMs: ($0.receivedAt - origin) / 1_000_000, video: $0.video,
                            queuedAt: $0.queuedAt, receivedAt: $0.receivedAt, batch: batch)
                    },
                    cost: plays.count)
            }
            return origin
        }
        file?.write(ReceiptLog.lines(for: plays, batchNumber: batch, origin: origin))
    }

    /// Every play received, in order; or why they were not kept in memory.
    var records: Result<[ReceiptRecord], KeptRecordsShortfall> {
        state.withLock { $0.records.kept }
    }

    func close() { file?.close() }
}

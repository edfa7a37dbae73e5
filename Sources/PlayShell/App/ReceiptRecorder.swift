import PlayCounts

/// Keeps what the processor received — in memory for `audit`, and in the `record` file when one is set
/// (the replayable receipt log).
final class ReceiptRecorder: Sendable {
    /// Plays kept in memory for `audit`; a longer run is audited from the `record` file instead.
    static let memoryLimit = 2_000_000

    private struct State {
        var records: [ReceiptRecord] = []
        var overflowed = false
        var origin: WallNanoseconds?
    }

    private let state = Locked(State())
    private let file: ReceiptLogFile?

    init(file: ReceiptLogFile?) {
        self.file = file
    }

    /// Records one read batch.
    func record(_ plays: [Play], batch: Int) {
        guard let first = plays.first else { return }
        let origin = state.withLock { state -> WallNanoseconds in
            let origin = state.origin ?? first.receivedAt
            state.origin = origin
            if state.records.count + plays.count > Self.memoryLimit {
                state.overflowed = true
            } else {
                for play in plays {
                    state.records.append(ReceiptRecord(
                        atMs: (play.receivedAt - origin) / 1_000_000, video: play.video,
                        queuedAt: play.queuedAt, receivedAt: play.receivedAt, batch: batch))
                }
            }
            return origin
        }
        file?.write(ReceiptLog.lines(for: plays, batchNumber: batch, origin: origin))
    }

    /// Every play received, in order; nil when there were too many to keep in memory.
    var records: [ReceiptRecord]? { state.withLock { $0.overflowed ? nil : $0.records } }

    func close() { file?.close() }
}

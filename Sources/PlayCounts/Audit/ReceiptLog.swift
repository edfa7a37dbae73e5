import Foundation

/// One play as the processor received it, with its read batch: a line of the receipt log.
public struct ReceiptRecord: Sendable, Hashable {
    /// Milliseconds from the first play received in the run to this one (what replay uses).
    public var atMs: Int64
    public var video: VideoID
    public var queuedAt: WallNanoseconds
    public var receivedAt: WallNanoseconds
    /// 1, 2, 3, … : the read batch the play came in.
    public var batch: Int

    public init(atMs: Int64, video: VideoID, queuedAt: WallNanoseconds, receivedAt: WallNanoseconds, batch: Int) {
        self.atMs = atMs
        self.video = video
        self.queuedAt = queuedAt
        self.receivedAt = receivedAt
        self.batch = batch
    }

    public var play: Play { Play(video: video, queuedAt: queuedAt, receivedAt: receivedAt) }
}

/// The receipt log: one JSON object per play and line,
/// `{"at_ms": <ms since first play>, "video_id": "<guid>", "queued_ns": n, "received_ns": n, "batch": n}`.
public enum ReceiptLog {
    private struct Line: Decodable {
        var at_ms: Int64
        var video_id: String
        var queued_ns: Int64?
        var received_ns: Int64?
        var batch: Int?
    }

    /// The lines (each ending in a newline) for one read batch; `origin` is the first play's `receivedAt`.
    public static func lines(for batch: [Play], batchNumber: Int, origin: WallNanoseconds) -> String {
        var text = ""
        text.reserveCapacity(batch.count * 140)
        for play in batch {
            let atMs = play.receivedAt.saturatingSubtract(origin) / 1_000_000
            text += "{\"at_ms\": \(atMs), \"video_id\": \"\(play.video)\", \"queued_ns\": \(play.queuedAt), "
            text += "\"received_ns\": \(play.receivedAt), \"batch\": \(batchNumber)}\n"
        }
        return text
    }

    /// Parses one line. Only `at_ms` and `video_id` are required (enough to replay); missing times default to
    /// `at_ms` (as nanoseconds) and a missing batch to 0.
    public static func parse(line text: some StringProtocol, lineNumber: Int = 0) throws(LogParseError) -> ReceiptRecord {
        let decoded: Line
        do {
            decoded = try JSONDecoder().decode(Line.self, from: Data(text.utf8))
        } catch {
            throw LogParseError(line: lineNumber, reason: "not a receipt log line: \(error)")
        }
        guard let video = VideoID(decoded.video_id) else {
            throw LogParseError(line: lineNumber, reason: "bad video id \(decoded.video_id)")
        }
        let atNanos = decoded.at_ms.multipliedReportingOverflow(by: 1_000_000)
        guard !atNanos.overflow else { throw LogParseError(line: lineNumber, reason: "at_ms out of range") }
        let receivedAt = decoded.received_ns ?? atNanos.partialValue
        return ReceiptRecord(
            atMs: decoded.at_ms, video: video, queuedAt: decoded.queued_ns ?? receivedAt, receivedAt: receivedAt,
            batch: decoded.batch ?? 0)
    }

    /// Parses a whole log; blank lines are skipped.
    public static func parse(text: some StringProtocol) throws(LogParseError) -> [ReceiptRecord] {
        try LogLines.parse(text) { line, number throws(LogParseError) in try parse(line: line, lineNumber: number) }
    }
}

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
    /// The NSQ message id (16 characters) the play came in, when known: a message recorded twice (received,
    /// then redelivered after a crash before its commit) is one play.
    public var messageID: String?

    public init(
        atMs: Int64, video: VideoID, queuedAt: WallNanoseconds, receivedAt: WallNanoseconds, batch: Int,
        messageID: String? = nil
    ) {
        self.atMs = atMs
        self.video = video
        self.queuedAt = queuedAt
        self.receivedAt = receivedAt
        self.batch = batch
        self.messageID = messageID
    }

    public var play: Play { Play(video: video, queuedAt: queuedAt, receivedAt: receivedAt) }
}

/// The receipt log: one JSON object per play and line,
/// `{"at_ms": <ms since first play>, "video_id": "<guid>", "queued_ns": n, "received_ns": n, "batch": n}`, plus
/// `"message_id": "<16 characters>"` when the play's NSQ message is known.
public enum ReceiptLog {
    private struct Line: Decodable {
        var at_ms: Int64
        var video_id: String
        var queued_ns: Int64?
        var received_ns: Int64?
        var batch: Int?
        var message_id: String?
    }

    /// The lines (each ending in a newline) for one read batch; `origin` is the first play's `receivedAt`.
    public static func lines(for batch: [Play], batchNumber: Int, origin: WallNanoseconds) -> String {
        lines(for: batch.lazy.map {
            ReceiptRecord(
                atMs: $0.receivedAt.saturatingSubtract(origin) / 1_000_000, video: $0.video, queuedAt: $0.queuedAt,
                receivedAt: $0.receivedAt, batch: batchNumber)
        })
    }

    /// The lines (each ending in a newline) of `records`.
    public static func lines(for records: some Sequence<ReceiptRecord>) -> String {
        var text = ""
        text.reserveCapacity(records.underestimatedCount * 170)
        for record in records {
            text += "{\"at_ms\": \(record.atMs), \"video_id\": \"\(record.video)\", \"queued_ns\": \(record.queuedAt), "
            text += "\"received_ns\": \(record.receivedAt), \"batch\": \(record.batch)"
            if let messageID = record.messageID { text += ", \"message_id\": \(jsonString(messageID))" }
            text += "}\n"
        }
        return text
    }

    private static func jsonString(_ text: String) -> String {
        String(decoding: (try? JSONEncoder().encode(text)) ?? Data("\"\"".utf8), as: UTF8.self)
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
            batch: decoded.batch ?? 0, messageID: decoded.message_id)
    }

    /// Parses a whole log; blank lines are skipped.
    public static func parse(text: some StringProtocol) throws(LogParseError) -> [ReceiptRecord] {
        try LogLines.parse(text) { line, number throws(LogParseError) in try parse(line: line, lineNumber: number) }
    }

    /// The receipts of several owners' logs as one run: each log's batch numbers are moved past the previous
    /// logs' so that a batch names one read of one owner (their numbers all start at 1). Order is kept: log by
    /// log, each in its own receipt order.
    public static func merge(_ logs: [[ReceiptRecord]]) -> [ReceiptRecord] {
        guard logs.count > 1 else { return logs.first ?? [] }
        var merged: [ReceiptRecord] = []
        merged.reserveCapacity(logs.reduce(0) { $0 + $1.count })
        var offset = 0
        for log in logs {
            var highest = 0
            for var record in log {
                highest = max(highest, record.batch)
                record.batch += offset
                merged.append(record)
            }
            offset += highest + 1
        }
        return merged
    }
}

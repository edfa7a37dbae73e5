import Foundation

/// The publish log: one JSON object per call and line,
/// `{"sequence": n, "published_at": "<RFC 3339 µs>", "counts": {"<guid>": n, …}}`, as ``PublishCallEncoder``
/// writes it for the stdout and file clients; ``parse(line:lineNumber:)`` reads those lines back.
public enum PublishLog {
    private struct Line: Decodable {
        var sequence: Int
        var partition: Int?
        var partitions: Int?
        var published_at: String
        var counts: [String: Int]
    }

    /// The log line for `call` (without the trailing newline): exactly what every publish client writes,
    /// produced by the one encoder, ``PublishCallEncoder``.
    public static func line(for call: PublishCall) -> String {
        String(decoding: PublishCallEncoder.encode(call), as: UTF8.self)
    }

    /// Parses one line. Counts come back sorted by video (JSON objects are unordered).
    public static func parse(line text: some StringProtocol, lineNumber: Int = 0) throws(LogParseError) -> PublishCall {
        let decoded: Line
        do {
            decoded = try JSONDecoder().decode(Line.self, from: Data(text.utf8))
        } catch {
            throw LogParseError(line: lineNumber, reason: "not a publish log line: \(error)")
        }
        guard let publishedAt = RFC3339.parse(decoded.published_at) else {
            throw LogParseError(line: lineNumber, reason: "bad published_at \(decoded.published_at)")
        }
        var counts: [VideoCount] = []
        counts.reserveCapacity(decoded.counts.count)
        for (key, plays) in decoded.counts {
            guard let video = VideoID(key) else { throw LogParseError(line: lineNumber, reason: "bad video id \(key)") }
            guard plays >= 0 else { throw LogParseError(line: lineNumber, reason: "negative count for \(key)") }
            counts.append(VideoCount(video: video, plays: plays))
        }
        counts.sort { $0.video < $1.video }
        var partition: Partition?
        if decoded.partition != nil || decoded.partitions != nil {
            guard let index = decoded.partition, let count = decoded.partitions,
                let parsed = Partition(index: index, count: count)
            else {
                throw LogParseError(line: lineNumber, reason: "bad partition \(decoded.partition.map(String.init) ?? "-")/\(decoded.partitions.map(String.init) ?? "-")")
            }
            partition = parsed
        }
        return PublishCall(sequence: decoded.sequence, publishedAt: publishedAt, counts: counts, partition: partition)
    }

    /// Parses a whole log; blank lines are skipped.
    public static func parse(text: some StringProtocol) throws(LogParseError) -> [PublishCall] {
        try LogLines.parse(text) { line, number throws(LogParseError) in try parse(line: line, lineNumber: number) }
    }
}

import Foundation

/// The publish log: one JSON object per call and line,
/// `{"sequence": n, "published_at": "<RFC 3339 µs>", "counts": {"<guid>": n, …}}`.
public enum PublishLog {
    private struct Line: Decodable {
        var sequence: Int
        var published_at: String
        var counts: [String: Int]
    }

    /// The log line for `call` (without the trailing newline); keys in a fixed order, counts in call order.
    public static func line(for call: PublishCall) -> String {
        var text = "{\"sequence\": \(call.sequence), \"published_at\": \"\(RFC3339.format(call.publishedAt))\", \"counts\": {"
        for (index, entry) in call.counts.enumerated() {
            if index > 0 { text += ", " }
            text += "\"\(entry.video)\": \(entry.plays)"
        }
        return text + "}}"
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
        return PublishCall(sequence: decoded.sequence, publishedAt: publishedAt, counts: counts)
    }

    /// Parses a whole log; blank lines are skipped.
    public static func parse(text: some StringProtocol) throws(LogParseError) -> [PublishCall] {
        var calls: [PublishCall] = []
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            if line.allSatisfy({ $0.isWhitespace }) { continue }
            calls.append(try parse(line: line, lineNumber: index + 1))
        }
        return calls
    }
}

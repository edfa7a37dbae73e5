import Foundation
import Logging

/// How log events are written on stderr (`--log-format`).
public enum LogFormat: String, Sendable, CaseIterable {
    /// `NAME: MESSAGE (key=value …)` (`playcount: …`), for people at a terminal or reading a script's output.
    case human
    /// One logfmt line per event: `ts=… level=warning msg="…" key=value …`, for a supervisor's collector.
    case logfmt
    /// One JSON object per line, keys sorted: `{"level":"warning","msg":"…","nsqd":"…","ts":"…"}`.
    case json
}

/// A swift-log handler writing each event as one line to a shell stream (stderr in the program, a buffer in
/// tests). Constructed per logger, with no global bootstrap, so several shells in one test process keep their
/// own streams.
public struct ShellLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    public let format: LogFormat
    /// The program's name, which human lines start with.
    public let name: String
    private let writer: ShellWriter

    public init(writer: ShellWriter, name: String, level: Logger.Level, format: LogFormat) {
        self.writer = writer
        self.name = name
        self.logLevel = level
        self.format = format
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        writer.print(
            Self.line(name: name, level: event.level, message: "\(event.message)", metadata: merged, format: format, at: Date()))
    }

    /// The line for one event (without its newline).
    static func line(
        name: String, level: Logger.Level, message: String, metadata: Logger.Metadata, format: LogFormat, at date: Date
    ) -> String {
        let keys = metadata.keys.sorted()
        switch format {
        case .human:
            let details = keys.map { "\($0)=\(metadata[$0]!)" }.joined(separator: " ")
            let prefix = level >= .error ? "\(name): error: " : "\(name): "
            return prefix + message + (details.isEmpty ? "" : " (\(details))")
        case .logfmt:
            var fields = ["ts=\(timestamp(date))", "level=\(level.rawValue)", "msg=\(logfmtValue(message))"]
            fields += keys.map { "\($0)=\(logfmtValue("\(metadata[$0]!)"))" }
            return fields.joined(separator: " ")
        case .json:
            var object: [String: String] = ["ts": timestamp(date), "level": level.rawValue, "msg": message]
            for key in keys where object[key] == nil { object[key] = "\(metadata[key]!)" }
            let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]))
            return data.map { String(decoding: $0, as: UTF8.self) } ?? #"{"msg":"unencodable log event"}"#
        }
    }

    private static func timestamp(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }

    /// A logfmt value: bare when it has no space, quote or `=`, else quoted with `"` and `\` escaped.
    static func logfmtValue(_ value: String) -> String {
        let needsQuotes = value.isEmpty || value.contains { $0 == " " || $0 == "\"" || $0 == "=" || $0.isNewline }
        guard needsQuotes else { return value }
        let escaped = value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
        return "\"\(escaped)\""
    }
}

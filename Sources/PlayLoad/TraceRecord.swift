import PlayCounts

/// One play in a replay trace: which video, and when relative to the trace's start.
public struct TraceRecord: Sendable, Hashable {
    /// Offset from the start of the trace in nanoseconds (`at_ms` × 1,000,000).
    public var offsetNanoseconds: Int64
    public var video: VideoID

    public init(offsetNanoseconds: Int64, video: VideoID) {
        self.offsetNanoseconds = offsetNanoseconds
        self.video = video
    }

    public init(atMilliseconds: Int64, video: VideoID) {
        self.init(offsetNanoseconds: atMilliseconds.multipliedReportingOverflow(by: 1_000_000).partialValue, video: video)
    }

    /// The offset in milliseconds, as written in a trace line.
    public var atMilliseconds: Double { Double(offsetNanoseconds) / 1_000_000 }
}

/// A problem on one line of a trace file.
public struct TraceLineError: Error, Sendable, Hashable, CustomStringConvertible {
    /// 1-based line number.
    public var line: Int
    public var message: String

    public init(line: Int, message: String) {
        self.line = line
        self.message = message
    }

    public var description: String { "line \(line): \(message)" }
}

/// Everything read from a trace: the good records (in file order) and every bad line.
public struct TraceParseResult: Sendable, Hashable {
    public var records: [TraceRecord]
    public var errors: [TraceLineError]

    public init(records: [TraceRecord] = [], errors: [TraceLineError] = []) {
        self.records = records
        self.errors = errors
    }
}

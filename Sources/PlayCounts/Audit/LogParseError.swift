/// A line of a publish or receipt log that could not be read.
public struct LogParseError: Error, Hashable, CustomStringConvertible {
    /// 1-based line number within the text parsed (0 when parsing a single line).
    public var line: Int
    public var reason: String

    public init(line: Int, reason: String) {
        self.line = line
        self.reason = reason
    }

    public var description: String { line > 0 ? "line \(line): \(reason)" : reason }
}

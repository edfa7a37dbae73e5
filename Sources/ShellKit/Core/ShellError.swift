/// A command failure with a message meant for the user: printed as one line (`error: MESSAGE`, or
/// `FILE:LINE: error: MESSAGE` in a script). Throw it from `run(in:)` for any expected failure.
public struct ShellError: Error, CustomStringConvertible, Sendable, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Thrown by `source` when the nested script failed; its errors were already reported, so the runner only
/// counts the failure.
public struct AlreadyReportedFailure: Error, Sendable {}

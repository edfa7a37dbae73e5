import PlayCounts

/// Why a seed plan cannot be built; the message says which option to change.
public struct SeedPlanError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}

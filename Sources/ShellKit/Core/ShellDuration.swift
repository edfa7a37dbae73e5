import ArgumentParser
import Foundation

/// A duration typed in the shell: a number with a unit, `250ms`, `2s`, `1.5m`, `1h` (a bare number means
/// seconds). Usable as an `@Argument`/`@Option` type by any command.
public struct ShellDuration: Sendable, Equatable, ExpressibleByArgument, CustomStringConvertible {
    public let duration: Duration
    /// The text as typed, for messages.
    public let description: String

    public init(_ duration: Duration, description: String) {
        self.duration = duration
        self.description = description
    }

    public init?(argument: String) {
        let text = argument.trimmingCharacters(in: .whitespaces).lowercased()
        let units: [(suffix: String, seconds: Double)] = [
            ("ms", 0.001), ("us", 0.000_001), ("s", 1), ("m", 60), ("h", 3600),
        ]
        var number = text
        var scale = 1.0
        for unit in units where text.hasSuffix(unit.suffix) {
            number = String(text.dropLast(unit.suffix.count))
            scale = unit.seconds
            break
        }
        guard !number.isEmpty, let value = Double(number), value.isFinite, value >= 0 else { return nil }
        let seconds = value * scale
        guard seconds <= 366 * 24 * 3600 else { return nil }
        self.init(.nanoseconds(Int64((seconds * 1e9).rounded())),
            description: argument)
    }

    public static var defaultCompletionKind: CompletionKind { .default }
}

import ArgumentParser
import Locking

/// How one command line ended.
public enum CommandResult: Sendable, Equatable {
    case success
    /// Failed; `message` is the error to report, nil when it was already reported (a failing `source`).
    case failed(message: String?)
    /// Cancelled by Ctrl-C.
    case interrupted
}

extension ShellContext {
    /// Looks up, parses and runs one command given as words. The command runs in a child task that Ctrl-C
    /// cancels. `help`-style requests (`NAME --help`) print the command's help and succeed.
    public func execute(_ words: [String]) async -> CommandResult {
        guard let name = words.first else { return .success }
        guard let entry = commands.entry(named: name) else {
            return .failed(message: "unknown command '\(name)'; type 'help' for the list of commands")
        }
        let arguments = Array(words.dropFirst())
        let command: any ShellCommand
        do {
            let parsed = try entry.type.parseAsRoot(arguments)
            guard let shellCommand = parsed as? any ShellCommand else {
                // The parser answers `--help`, `-h` and `help` with its own help command.
                out.print(Self.helpText(for: entry.type, subcommandPath: arguments))
                return .success
            }
            command = shellCommand
        } catch {
            if entry.type.exitCode(for: error) == .success {
                out.print(Self.helpText(for: entry.type, subcommandPath: arguments))
                return .success
            }
            let usage = entry.type.usageString().replacingOccurrences(of: "\n", with: " ")
            return .failed(message: "\(entry.name): \(entry.type.message(for: error)) (usage: \(usage))")
        }
        // Registered before the command starts: a Ctrl-C (or an `interrupt()` by the command itself) that comes
        // as soon as it runs must find it registered, and cancels the task once there is one.
        let cancellation = PendingCancellation()
        let token = interrupts.beginCommand { cancellation.cancel() }
        let task = Task { try await command.run(in: self) }
        cancellation.attach(task)
        let failure: (any Error)?
        do {
            try await withTaskCancellationHandler {
                try await task.value
            } onCancel: {
                task.cancel()
            }
            failure = nil
        } catch {
            failure = error
        }
        // Ending the command and taking its interrupt is one step: a Ctrl-C that comes as the command finishes
        // (its answer printed) either is seen here or finds nothing running (a script then ends with 130).
        // Dropping it would leave a script waiting on stdin (issue 11).
        let interrupted = interrupts.endCommand(token)
        guard let error = failure else {
            return interrupted && !entry.type.endsOnInterrupt ? .interrupted : .success
        }
        if interrupted || error is CancellationError { return .interrupted }
        switch error {
        case let error as ShellError: return .failed(message: error.message)
        case is AlreadyReportedFailure: return .failed(message: nil)
        case let error as LineTokenizer.Error: return .failed(message: error.message)
        default: return .failed(message: "\(entry.name): \(error)")
        }
    }

    /// The help text `help NAME` and `NAME --help` both print.
    public static func helpText(for type: any ShellCommand.Type) -> String {
        trimmed(type.helpMessage(columns: 100))
    }

    /// The help of the (sub)command named by the leading words of `path` (`add --help` → `add`'s help).
    public static func helpText(for type: any ShellCommand.Type, subcommandPath path: [String]) -> String {
        var current: any ParsableCommand.Type = type
        for word in path {
            let next = current.configuration.subcommands.first { sub in
                sub._commandName == word || sub.configuration.aliases.contains(word)
            }
            guard let next else { break }
            current = next
        }
        if current == type { return helpText(for: type) }
        return trimmed(type.helpMessage(for: current, columns: 100))
    }

    private static func trimmed(_ text: String) -> String {
        var text = text
        while text.hasSuffix("\n") { text.removeLast() }
        return text
    }
}

/// A cancel that may come before the task it cancels exists: kept, and carried out when the task is attached.
private final class PendingCancellation: Sendable {
    private let state = Locked<(task: Task<Void, any Error>?, cancelled: Bool)>((nil, false))

    func cancel() {
        state.withLock { state in
            state.cancelled = true
            return state.task
        }?.cancel()
    }

    func attach(_ task: Task<Void, any Error>) {
        let cancelled = state.withLock { state in
            state.task = task
            return state.cancelled
        }
        if cancelled { task.cancel() }
    }
}

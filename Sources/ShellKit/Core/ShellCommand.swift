import ArgumentParser

/// A command of the shell, defined once as a swift-argument-parser type.
///
/// The type's `configuration` (name, abstract, discussion, aliases), its `@Argument`/`@Option`/`@Flag`
/// properties and their help give, from one definition: parsing of a shell line, `help NAME` and
/// `NAME --help` (the same text), and Tab completion (options, `EnumerableFlag`/`CaseIterable` values,
/// `completion: .file()` paths). See `CommandRegistry` for the full extension guide.
public protocol ShellCommand: ParsableCommand, Sendable {
    /// Does the work. Runs in a child task: honour cancellation (Ctrl-C) with `try Task.checkCancellation()`
    /// or cancellable awaits. Throw `ShellError("message")` for a failure the user should read.
    func run(in shell: ShellContext) async throws

    /// Completion candidates for a word this command's definition cannot describe (for example the names of
    /// settings). Return nil to use the definition-driven completion; return `[]` to offer nothing.
    static func completions(for request: CompletionRequest, in shell: ShellContext) -> [String]?

    /// True for a command whose way to end is Ctrl-C (`serve` stops gracefully on it): when it returns normally
    /// after one, it succeeded. For every other command a Ctrl-C that comes while it finishes still interrupts
    /// (a script then ends with status 130), even if the command had done its work.
    static var endsOnInterrupt: Bool { get }
}

extension ShellCommand {
    public static func completions(for request: CompletionRequest, in shell: ShellContext) -> [String]? { nil }
    public static var endsOnInterrupt: Bool { false }
}

/// The command line being completed, as seen by `ShellCommand.completions(for:in:)`.
public struct CompletionRequest: Sendable, Equatable {
    /// The complete words after the command name and before the word being completed.
    public let previousWords: [String]
    /// The partial word under the cursor (may be empty).
    public let partialWord: String

    public init(previousWords: [String], partialWord: String) {
        self.previousWords = previousWords
        self.partialWord = partialWord
    }
}

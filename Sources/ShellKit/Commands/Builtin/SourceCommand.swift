import ArgumentParser

/// `source FILE`: run the commands of another script, found relative to the including script.
struct SourceCommand: ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "source",
        abstract: "Run the commands in a script file.",
        discussion: """
            A relative FILE is found next to the script that sources it (at the prompt: in the working \
            directory). Errors inside are reported as FILE:LINE. Nesting is limited to 16 levels; a file \
            cannot source itself, directly or through others.
            """)

    @Argument(help: "The script to run.", completion: .file())
    var file: String

    func run(in shell: ShellContext) async throws {
        let outcome = try await ScriptRunner(shell: shell).runFile(file)
        switch outcome {
        case .interrupted: throw CancellationError()
        case .stopped: throw AlreadyReportedFailure()
        case .finished(let failures), .exitRequested(_, let failures):
            if failures > 0 { throw AlreadyReportedFailure() }
        }
    }
}

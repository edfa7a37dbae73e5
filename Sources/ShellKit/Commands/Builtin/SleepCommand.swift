import ArgumentParser

/// `sleep DURATION`: wait (Ctrl-C cancels), e.g. to let a scenario's consumer catch up.
struct SleepCommand: ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "sleep",
        abstract: "Wait for a while (Ctrl-C cancels).",
        discussion: "DURATION is a number with a unit: 500ms, 2s, 1.5m, 1h; a bare number means seconds.")

    @Argument(help: ArgumentHelp("How long to wait.", valueName: "duration"))
    var duration: ShellDuration

    func run(in shell: ShellContext) async throws {
        try await Task.sleep(for: duration.duration)
    }
}

import ArgumentParser

/// `quit [CODE]` (also `exit`): leave the shell, or stop a script, with an exit status.
struct QuitCommand: ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "quit",
        abstract: "Leave the shell (in a script: stop it).",
        aliases: ["exit"])

    @Argument(help: "Exit status, 0-255.")
    var code: Int32 = 0

    func validate() throws {
        guard (0...255).contains(code) else { throw ValidationError("exit status must be 0-255") }
    }

    func run(in shell: ShellContext) async throws {
        shell.requestExit(code: code)
    }
}

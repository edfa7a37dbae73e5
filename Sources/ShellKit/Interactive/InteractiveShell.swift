import Foundation

/// The interactive session: banner, `NAME> ` prompt (``ShellIdentity``), history, errors without locations, Ctrl-C back
/// to the prompt, Ctrl-D / `quit` / `exit` to leave (saving history).
public struct InteractiveShell {
    public let shell: ShellContext
    public let history: HistoryFile?

    public init(shell: ShellContext, history: HistoryFile?) {
        self.shell = shell
        self.history = history
    }

    /// Runs until the user leaves; returns the exit status (`quit CODE`, else 0).
    public func run() async -> Int32 {
        shell.commands.describeForCompletion()
        let editor = LineEditor(completer: Completer(shell: shell), name: shell.identity.name)
        var lines = history?.load() ?? []
        for line in lines { editor.addHistory(line) }
        shell.out.print(shell.identity.banner)
        let runner = ScriptRunner(shell: shell)
        var status: Int32 = 0
        loop: while true {
            shell.interrupts.setPrompting(true)
            let input = await editor.readLine(prompt: shell.identity.prompt)
            shell.interrupts.setPrompting(false)
            switch input {
            case .endOfInput:
                shell.out.print()
                break loop
            case .interrupted:
                shell.out.print()
                continue loop
            case .line(let line):
                if !line.trimmingCharacters(in: .whitespaces).isEmpty, line != lines.last {
                    editor.addHistory(line)
                    lines.append(line)
                }
                _ = await runner.runInteractiveLine(line)
                if let code = shell.requestedExit {
                    status = code
                    break loop
                }
            }
        }
        if let history, let problem = history.save(lines) { shell.logger.warning("\(problem)") }
        return status
    }
}

import ArgumentParser

/// `help` lists the commands; `help NAME` prints the same text as `NAME --help`.
struct HelpCommand: ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "help",
        abstract: "List the commands, or show how to use one.",
        discussion: "'help NAME' prints the same text as 'NAME --help'.")

    @Argument(help: ArgumentHelp("The command (and subcommand) to explain.", valueName: "command"))
    var path: [String] = []

    func run(in shell: ShellContext) async throws {
        if let command = path.first {
            guard let entry = shell.commands.entry(named: command) else {
                throw ShellError("no command '\(command)'; type 'help' for the list of commands")
            }
            shell.out.print(ShellContext.helpText(for: entry.type, subcommandPath: Array(path.dropFirst())))
            return
        }
        var table = Table(columns: ["COMMAND", "DESCRIPTION"])
        for entry in shell.commands.entries {
            let aliases = entry.aliases.isEmpty ? "" : " (also: \(entry.aliases.joined(separator: ", ")))"
            table.append([entry.name, entry.type.configuration.abstract + aliases])
        }
        shell.printTable(table)
        shell.out.print("""

            Type 'help NAME' or 'NAME --help' for details, 'show' for the settings, 'expect --list' for what \
            'expect' can check.
            """)
    }

    static func completions(for request: CompletionRequest, in shell: ShellContext) -> [String]? {
        guard let command = request.previousWords.first else { return shell.commands.allNames }
        guard request.previousWords.count == 1, let entry = shell.commands.entry(named: command) else { return [] }
        return entry.type.configuration.subcommands.map { $0._commandName }
    }
}

import ArgumentParser

/// `show [NAME] [--json]`: print settings with their type, default and help.
struct ShowCommand: ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Print the settings (or one of them).")

    @Argument(help: "Only this setting.")
    var name: String?

    @OptionGroup var output: OutputOptions

    func run(in shell: ShellContext) async throws {
        let rows: [SettingInfo]
        if let name {
            guard let info = shell.settings.info(named: name) else {
                throw ShellError("unknown setting '\(name)'\(SettingsRegistry.hint(for: name, among: shell.settings.names))")
            }
            if output.json {
                try shell.printJSON(info)
                return
            }
            rows = [info]
        } else {
            rows = shell.settings.all
        }
        try shell.report(rows, json: output.json) { rows in
            Table(
                columns: ["NAME", "VALUE", "TYPE", "DEFAULT", "DESCRIPTION"],
                rows: rows.map { [$0.name, $0.value.description, $0.type, $0.defaultValue.description, $0.help] })
        }
    }

    static func completions(for request: CompletionRequest, in shell: ShellContext) -> [String]? {
        if request.partialWord.hasPrefix("-") { return nil }
        return request.previousWords.filter { !$0.hasPrefix("-") }.isEmpty ? shell.settings.names : []
    }
}

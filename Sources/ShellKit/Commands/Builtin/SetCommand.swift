import ArgumentParser

/// `set NAME VALUE`: change a setting (validated; `show` lists them).
struct SetCommand: ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "set",
        abstract: "Change a setting ('show' lists them).")

    @Argument(help: "The setting.")
    var name: String

    @Argument(help: "Its new value (quote it if it has spaces).")
    var value: String

    func run(in shell: ShellContext) async throws {
        try shell.settings.set(name: name, text: value)
    }

    static func completions(for request: CompletionRequest, in shell: ShellContext) -> [String]? {
        switch request.previousWords.count {
        case 0: return shell.settings.names
        case 1: return shell.settings.suggestions(for: request.previousWords[0])
        default: return []
        }
    }
}

import ArgumentParser

/// `echo TEXT…`: print the words separated by single spaces.
struct EchoCommand: ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "echo",
        abstract: "Print the words, separated by spaces.")

    @Flag(name: .customShort("n"), help: "Do not print the trailing newline.")
    var noNewline = false

    @Argument(parsing: .allUnrecognized, help: "The words to print.")
    var words: [String] = []

    func run(in shell: ShellContext) async throws {
        shell.out.print(words.joined(separator: " "), terminator: noNewline ? "" : "\n")
    }
}

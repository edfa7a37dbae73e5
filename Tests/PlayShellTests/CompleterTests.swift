import Testing

@testable import PlayShell
@testable import ShellKit

@Suite struct CompleterTests {
    func completer() -> Completer {
        let captured = CapturedShell()
        captured.shell.commands.register(ProbeCommand.self)
        captured.shell.figures.register("audit ok", help: "Clean.") { _ in .boolean(true) }
        return Completer(shell: captured.shell)
    }

    @Test func completesCommandNames() {
        #expect(completer().complete(before: "", partialWord: "s") == .words(["set", "show", "sleep", "source"]))
        #expect(completer().complete(before: "", partialWord: "ec") == .words(["echo"]))
        #expect(completer().complete(before: "", partialWord: "zz") == .words([]))
    }

    @Test func completesOptionsFromTheDefinition() {
        #expect(completer().complete(before: "probe 1 ", partialWord: "--") == .words(["--help", "--input", "--json", "--mode"]))
        #expect(completer().complete(before: "show ", partialWord: "--j") == .words(["--json"]))
    }

    @Test func completesEnumerableArgumentsAndOptionValues() {
        #expect(completer().complete(before: "probe 10 ", partialWord: "") == .words(["uniform", "zipf"]))
        #expect(completer().complete(before: "probe --mode fast 10 ", partialWord: "z") == .words(["zipf"]))
        #expect(completer().complete(before: "probe --mode ", partialWord: "") == .words(["fast", "slow"]))
        #expect(completer().complete(before: "probe ", partialWord: "") == .words([]))
    }

    @Test func completesFilePaths() {
        #expect(completer().complete(before: "source ", partialWord: "ex") == .files)
        #expect(completer().complete(before: "probe --input ", partialWord: "") == .files)
    }

    @Test func completesRuntimeNames() {
        #expect(completer().complete(before: "help ", partialWord: "so") == .words(["source"]))
        #expect(completer().complete(before: "set ", partialWord: "") == .words(["channel", "topic"]))
        #expect(completer().complete(before: "expect ", partialWord: "a") == .words(["audit"]))
        #expect(completer().complete(before: "expect audit ", partialWord: "") == .words(["!=", "<", "<=", "==", ">", ">=", "ok"]))
        #expect(completer().complete(before: "expect topic == ", partialWord: "") == .words([]))
    }
}

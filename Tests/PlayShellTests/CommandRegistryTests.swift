import ArgumentParser
import Testing

@testable import PlayService
@testable import PlayShell
import Locking
@testable import ShellKit

/// A command defined only for these tests: options, an enumerable argument and a file option.
struct ProbeCommand: ShellCommand {
    static let configuration = CommandConfiguration(commandName: "probe", abstract: "A test command.", aliases: ["pr"])

    enum Shape: String, ExpressibleByArgument, CaseIterable { case uniform, zipf }

    @Argument(help: "How many.") var count: Int
    @Argument(help: "Shape.") var shape: Shape = .uniform
    @Option(help: "A file.", completion: .file()) var input: String?
    @Option(help: "A mode.", completion: .list(["fast", "slow"])) var mode: String?
    @OptionGroup var output: OutputOptions

    func run(in shell: ShellContext) async throws {
        guard count >= 0 else { throw ShellError("count must not be negative") }
        try shell.report(["count": count], json: output.json) { value in
            Table(columns: ["SHAPE", "COUNT"], rows: [[shape.rawValue, String(value["count"] ?? 0)]])
        }
    }
}

@Suite struct CommandRegistryTests {
    @Test func findsCommandsByNameAndAlias() {
        let registry = CommandRegistry()
        registry.register(ProbeCommand.self)
        #expect(registry.entry(named: "probe")?.name == "probe")
        #expect(registry.entry(named: "pr")?.name == "probe")
        #expect(registry.entry(named: "nope") == nil)
        #expect(registry.allNames == ["pr", "probe"])
    }

    @Test func builtinsAreRegistered() {
        let captured = CapturedShell()
        #expect(captured.shell.commands.entries.map(\.name) == [
            "echo", "expect", "help", "quit", "set", "show", "sleep", "source",
        ])
        #expect(captured.shell.commands.entry(named: "exit")?.name == "quit")
    }

    @Test func parsesAndRunsACommandLine() async {
        let captured = CapturedShell()
        captured.shell.commands.register(ProbeCommand.self)
        #expect(await captured.shell.execute(["probe", "3", "zipf"]) == .success)
        #expect(captured.out.text == "SHAPE  COUNT\nzipf       3\n")
        #expect(await captured.shell.execute(["probe", "4", "--json"]) == .success)
        #expect(captured.out.text.hasSuffix("{\n  \"count\" : 4\n}\n"))
    }

    @Test func helpCommandAndHelpFlagPrintTheSameText() async {
        let viaHelp = CapturedShell()
        viaHelp.shell.commands.register(ProbeCommand.self)
        #expect(await viaHelp.shell.execute(["help", "probe"]) == .success)
        let viaFlag = CapturedShell()
        viaFlag.shell.commands.register(ProbeCommand.self)
        #expect(await viaFlag.shell.execute(["probe", "--help"]) == .success)
        #expect(viaHelp.out.text == viaFlag.out.text)
        #expect(viaHelp.out.text.contains("USAGE: probe <count> [<shape>]"))
        #expect(viaHelp.out.text.contains("A test command."))
    }

    @Test func helpListsEveryCommandWithItsAbstract() async {
        let captured = CapturedShell()
        #expect(await captured.shell.execute(["help"]) == .success)
        for entry in captured.shell.commands.entries {
            #expect(captured.out.text.contains(entry.name))
            #expect(captured.out.text.contains(entry.type.configuration.abstract))
        }
    }

    @Test func parseErrorsAreOneLineWithUsage() async {
        let captured = CapturedShell()
        captured.shell.commands.register(ProbeCommand.self)
        let result = await captured.shell.execute(["probe", "many"])
        guard case .failed(let message?) = result else {
            Issue.record("expected a failure, got \(result)")
            return
        }
        #expect(message.hasPrefix("probe: "))
        #expect(message.contains("many"))
        #expect(message.contains("usage: probe"))
        #expect(!message.contains("\n"))
    }

    @Test func unknownCommandsFail() async {
        let captured = CapturedShell()
        #expect(await captured.shell.execute(["frobnicate"]) == .failed(message: "unknown command 'frobnicate'; type 'help' for the list of commands"))
    }

    @Test func commandErrorsBecomeFailures() async {
        let captured = CapturedShell()
        captured.shell.commands.register(ProbeCommand.self)
        #expect(await captured.shell.execute(["probe", "--", "-1"]) == .failed(message: "count must not be negative"))
    }

    @Test func echoJoinsWordsAndKeepsDashes() async {
        let captured = CapturedShell()
        #expect(await captured.shell.execute(["echo", "a", "--x", "b c"]) == .success)
        #expect(await captured.shell.execute(["echo", "-n", "no newline"]) == .success)
        #expect(captured.out.text == "a --x b c\nno newline")
    }

    @Test func quitRecordsTheExitStatus() async {
        let captured = CapturedShell()
        #expect(await captured.shell.execute(["exit", "3"]) == .success)
        #expect(captured.shell.requestedExit == 3)
        #expect(await captured.shell.execute(["quit", "300"]) != .success)
    }

    @Test(.timeLimit(.minutes(5))) func sleepParsesDurationsAndIsCancellable() async {
        #expect(ShellDuration(argument: "500ms")?.duration == .milliseconds(500))
        #expect(ShellDuration(argument: "2s")?.duration == .seconds(2))
        #expect(ShellDuration(argument: "1m")?.duration == .seconds(60))
        #expect(ShellDuration(argument: "1.5")?.duration == .milliseconds(1500))
        #expect(ShellDuration(argument: "-1s") == nil)
        #expect(ShellDuration(argument: "soon") == nil)

        let captured = CapturedShell()
        let start = ContinuousClock.now
        let task = Task { await captured.shell.execute(["sleep", "10m"]) }
        // Cancel as the interrupt watcher does on Ctrl-C, once the command is running.
        while !captured.shell.interrupts.hasRunningCommand { try? await Task.sleep(for: .milliseconds(2)) }
        captured.shell.interrupts.interrupt()
        #expect(await task.value == .interrupted)
        // Cut short: far sooner than the 10 minutes asked for, however busy the machine.
        #expect(ContinuousClock.now - start < .seconds(300))
    }
}

/// A command that has done its work when Ctrl-C comes: it prints, then the interrupt arrives before it returns
/// (what a SIGINT sent right after a piped command's answer meets).
struct AnswerThenInterruptedCommand: ShellCommand {
    static let configuration = CommandConfiguration(commandName: "answer-then-interrupted")
    func run(in shell: ShellContext) async throws {
        shell.out.print("answer")
        shell.interrupts.interrupt()
    }
}

/// The same, for a command whose way to end is Ctrl-C.
struct EndsOnInterruptCommand: ShellCommand {
    static let configuration = CommandConfiguration(commandName: "ends-on-interrupt")
    static var endsOnInterrupt: Bool { true }
    func run(in shell: ShellContext) async throws {
        shell.interrupts.interrupt()
    }
}

@Suite struct LateInterruptTests {
    @Test func anInterruptAsACommandFinishesIsNotLost() async {
        let captured = CapturedShell()
        captured.shell.commands.register(AnswerThenInterruptedCommand.self)
        #expect(await captured.shell.execute(["answer-then-interrupted"]) == .interrupted)
        #expect(captured.out.text == "answer\n")
        // Taken once: the next command runs undisturbed.
        #expect(await captured.shell.execute(["echo", "next"]) == .success)
    }

    @Test func aCommandThatEndsOnInterruptSucceeds() async {
        let captured = CapturedShell()
        captured.shell.commands.register(EndsOnInterruptCommand.self)
        #expect(await captured.shell.execute(["ends-on-interrupt"]) == .success)
    }
}

@Suite struct InterruptControllerTests {
    @Test func effectsFollowTheMode() {
        let controller = InterruptController()
        #expect(controller.interrupt() == .idle)
        controller.setPrompting(true)
        #expect(controller.interrupt() == .abandonPrompt)
        controller.setPrompting(false)
        let cancelled = Locked(0)
        let token = controller.beginCommand { cancelled.withLock { $0 += 1 } }
        #expect(controller.interrupt() == .cancelledCommand)
        #expect(controller.interrupt() == .cancelledCommand)
        #expect(controller.interrupt() == .forceQuit)
        #expect(cancelled.current == 3)
        #expect(controller.endCommand(token))  // the interrupts came while it ran
        #expect(controller.interrupt() == .idle)
        let quiet = controller.beginCommand {}
        #expect(!controller.endCommand(quiet))  // taken once: nothing left over for the next command
        let next = controller.beginCommand {}
        #expect(controller.interrupt() == .cancelledCommand)
        #expect(controller.endCommand(next))
    }
}

/// A command with subcommands (`counter add 2`, `counter reset`), for tests.
struct CounterCommand: ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "counter", abstract: "A group.", subcommands: [Add.self, Reset.self])

    func run(in shell: ShellContext) async throws { shell.out.print("group") }

    struct Add: ShellCommand {
        static let configuration = CommandConfiguration(commandName: "add", abstract: "Add.")
        enum Unit: String, ExpressibleByArgument, CaseIterable { case plays, calls }
        @Argument var amount: Int
        @Argument var unit: Unit = .plays
        func run(in shell: ShellContext) async throws { shell.out.print("add \(amount) \(unit.rawValue)") }
    }

    struct Reset: ShellCommand {
        static let configuration = CommandConfiguration(commandName: "reset", abstract: "Reset.", aliases: ["clear"])
        @Flag var hard = false
        func run(in shell: ShellContext) async throws { shell.out.print(hard ? "hard reset" : "reset") }
    }
}

@Suite struct SubcommandTests {
    @Test func subcommandsParseRunAndComplete() async {
        let captured = CapturedShell()
        captured.shell.commands.register(CounterCommand.self)
        #expect(await captured.shell.execute(["counter", "add", "2", "calls"]) == .success)
        #expect(await captured.shell.execute(["counter", "clear", "--hard"]) == .success)
        #expect(await captured.shell.execute(["counter"]) == .success)
        #expect(captured.out.text == "add 2 calls\nhard reset\ngroup\n")
        #expect(await captured.shell.execute(["counter", "add", "x"]) != .success)
        #expect(await captured.shell.execute(["counter", "add", "--help"]) == .success)
        #expect(captured.out.text.contains("USAGE: counter add <amount> [<unit>]"))
        let viaHelp = CapturedShell()
        viaHelp.shell.commands.register(CounterCommand.self)
        #expect(await viaHelp.shell.execute(["help", "counter", "add"]) == .success)
        #expect(captured.out.text.hasSuffix(viaHelp.out.text))

        let completer = Completer(shell: captured.shell)
        #expect(completer.complete(before: "counter ", partialWord: "") == .words(["add", "clear", "help", "reset"]))
        #expect(completer.complete(before: "counter add 3 ", partialWord: "") == .words(["calls", "plays"]))
        #expect(completer.complete(before: "counter reset ", partialWord: "--h") == .words(["--hard", "--help"]))
    }
}

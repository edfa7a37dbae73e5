import Locking

/// The commands the shell knows, looked up by name or alias.
///
/// # Extending the shell
///
/// Every capability plugs into the shell through four registries on `ShellContext`. Register at start-up,
/// before the first line runs, in the `setUp` closure of `PlaycountMain.run` (main.swift):
/// ```swift
/// let status = await PlaycountMain.run(
///     arguments: Array(CommandLine.arguments.dropFirst()),
///     setUp: { shell in
///         shell.commands.register(SeedCommand.self)
///         shell.settings.register(.flushInterval)
///         shell.figures.register("calls", help: "Publish calls so far.") { shell in .integer(...) }
///     },
///     tearDown: { shell in await shell.processor?.stop() })
/// exit(status)
/// ```
/// (`BuiltinCommands.register(in:)` registers the built-in commands: help, quit/exit, echo, sleep, source, set,
/// show, expect; playcount's `PlaycountMain.makeContext()` calls it and adds the settings `topic` and `channel`.)
///
/// ## A command
/// Define a type once; its definition drives parsing, `help NAME` / `NAME --help`, and Tab completion:
/// ```swift
/// import ArgumentParser
///
/// struct SeedCommand: ShellCommand {
///     static let configuration = CommandConfiguration(
///         commandName: "seed", abstract: "Publish synthetic plays to the topic.")
///
///     enum Distribution: String, ExpressibleByArgument, CaseIterable { case uniform, zipf }
///
///     @Argument(help: "How many plays.") var count: Int
///     @Argument(help: "Video popularity.") var distribution: Distribution = .uniform  // Tab offers the cases
///     @Option(help: "Read video ids from this file.", completion: .file()) var ids: String?  // Tab offers paths
///     @OptionGroup var output: OutputOptions                                            // adds --json
///
///     func run(in shell: ShellContext) async throws {
///         let topic = shell.settings[.topic]                       // a typed setting
///         try Task.checkCancellation()                             // Ctrl-C cancels this task
///         guard count > 0 else { throw ShellError("count must be positive") }  // one clear error line
///         try shell.report(SeedReport(...), json: output.json) { report in  // table for people, --json for machines
///             Table(columns: ["topic", "plays"], rows: [[topic, String(report.plays)]])
///         }
///     }
/// }
/// shell.commands.register(SeedCommand.self)
/// ```
/// Put command files under `Sources/PlayShell/Commands/`. Use `validate()` or throw `ShellError` for bad
/// input; never crash on it. Long-running work must stay cancellable (Ctrl-C returns to the prompt).
/// For arguments the definition cannot enumerate (names known only at run time) implement
/// `static func completions(for:in:)`.
///
/// ## A setting (`set NAME VALUE`, `show [NAME] [--json]`, and an `expect` subject for free)
/// ```swift
/// extension Setting where Value == Int {
///     static var flushInterval: Setting<Int> {
///         Setting(name: "flush-interval", defaultValue: 60, help: "Seconds between forced flushes.",
///                 validate: { $0 > 0 ? nil : "must be positive" })
///     }
/// }
/// shell.settings.register(.flushInterval)
/// let seconds = shell.settings[.flushInterval]
/// ```
/// Value types: `String`, `Int`, `Double`, `Bool`, or any `ShellValueConvertible`.
///
/// ## A figure for `expect SUBJECT OP VALUE`
/// ```swift
/// shell.figures.register("calls", help: "Publish calls made so far.") { shell in
///     .integer(await processor.stats.calls)
/// }
/// shell.figures.register("audit ok", help: "True when the last audit found no violation.") { _ in
///     .boolean(await auditor.lastReport.isClean)
/// }
/// ```
/// Subjects may have several words (`expect audit ok`, `expect publish calls <= 150`); the longest
/// registered name that matches wins. Settings are subjects automatically. A boolean subject without an
/// operator asserts that it is true. Numbers compare with `== != < <= > >=`, strings and booleans with `==`
/// and `!=`. A failed expectation reads `expected calls <= 150, got 163`; `expect --list` lists subjects.
///
/// ## Subcommands
/// A command may list `subcommands:` (each a `ShellCommand`): `stats reset`, `help stats reset` and
/// `stats reset --help` work, and completion descends into them.
///
/// ## Components (the broker, the processor, …)
/// ```swift
/// enum ProcessorKey: ComponentKey { typealias Value = Processor }
/// extension ShellContext { var processor: Processor? { components[ProcessorKey.self] } }
/// shell.components[ProcessorKey.self] = processor
/// ```
///
/// ## Output
/// `shell.out.print(...)`, `shell.err.print(...)`, `shell.printTable(Table(...))`, `shell.printJSON(value)`,
/// `shell.report(value, json: output.json) { value in Table(...) }`. Never call Swift's `print`: tests capture
/// the shell's writers:
/// ```swift
/// let out = CapturingSink(), err = CapturingSink()
/// let shell = PlaycountMain.makeContext(out: ShellWriter(out), err: ShellWriter(err))
/// shell.commands.register(SeedCommand.self)
/// #expect(await shell.execute(["seed", "10", "zipf"]) == .success)          // one command, as words
/// #expect(await ScriptRunner(shell: shell).runLines(["seed 10", "expect calls <= 1"], name: "t.pc")
///     == .finished(failures: 0))                                            // lines, like a script
/// #expect(out.text == "…")
/// ```
public final class CommandRegistry: Sendable {
    /// One registered command type with its completion description.
    public struct Entry: Sendable {
        public let type: any ShellCommand.Type
        public let name: String
        public let aliases: [String]
    }

    private struct State {
        var entries: [Entry] = []
        var byName: [String: Int] = [:]
        /// Completion descriptions by command name, built by ``describeForCompletion()`` or on first use, not
        /// at registration: describing every command costs ~4 ms of each start, and a script or `serve` never
        /// completes a word.
        var specs: [String: CommandSpec] = [:]
    }

    private let state = Locked(State())

    public init() {}

    /// Registers a command under its `configuration.commandName` (or its type-derived name) and aliases.
    /// A later registration under the same name replaces the earlier one.
    public func register(_ type: any ShellCommand.Type) {
        let name = type._commandName
        let entry = Entry(type: type, name: name, aliases: type.configuration.aliases)
        state.withLock { state in
            state.specs[name] = nil
            if let existing = state.byName[name] {
                state.entries[existing] = entry
            } else {
                state.entries.append(entry)
            }
            let index = state.byName[name] ?? state.entries.count - 1
            for key in [name] + entry.aliases { state.byName[key] = index }
        }
    }

    /// Describes every command for completion now: an interactive shell calls it before its first prompt, so
    /// Tab never waits for it.
    public func describeForCompletion() {
        for entry in entries { _ = spec(of: entry) }
    }

    /// What completion knows of `entry`'s options, arguments and subcommands.
    func spec(of entry: Entry) -> CommandSpec {
        if let known = state.withLock({ $0.specs[entry.name] }) { return known }
        let spec = CommandSpec.of(entry.type)
        state.withLock { $0.specs[entry.name] = spec }
        return spec
    }

    /// The command called `name` (or with that alias), or nil.
    public func entry(named name: String) -> Entry? {
        state.withLock { state in state.byName[name].map { state.entries[$0] } }
    }

    /// All commands, sorted by name.
    public var entries: [Entry] { state.withLock { $0.entries }.sorted { $0.name < $1.name } }

    /// Every name and alias, sorted; what Tab completes in command position.
    public var allNames: [String] { state.withLock { Array($0.byName.keys) }.sorted() }
}

import Foundation
import Logging
import Locking

/// Everything a command can reach while it runs: output writers, settings, figures, commands, the app's
/// components, and where in a script the current line came from. One per shell session; shared by
/// reference (thread-safe).
public final class ShellContext: Sendable {
    /// Standard output (tables, JSON, echo).
    public let out: ShellWriter
    /// Standard error (errors, warnings, progress meant for people).
    public let err: ShellWriter
    public let settings: SettingsRegistry
    public let figures: FigureRegistry
    public let commands: CommandRegistry
    /// The app's long-lived components (the lead adds typed accessors in extensions).
    public let components: ComponentStore
    /// True when a person is typing at a terminal (libedit prompt); false for scripts and pipes.
    public let isInteractive: Bool
    /// How scripts run (`--echo`, `--keep-going`).
    public let options: RunOptions
    /// Routes Ctrl-C to the running command.
    public let interrupts: InterruptController
    /// Warnings, errors and notices of the running services, on `err` (`--log-level`, `--log-format`).
    public let logger: Logger
    /// The program's name, prompt and banner.
    public let identity: ShellIdentity

    private let frames = Locked([ScriptFrame]())
    private let exitRequest = Locked<Int32?>(nil)

    public init(
        out: ShellWriter = ShellWriter(FileDescriptorSink(descriptor: 1)),
        err: ShellWriter = ShellWriter(FileDescriptorSink(descriptor: 2)),
        isInteractive: Bool = false,
        identity: ShellIdentity = .generic,
        options: RunOptions = RunOptions(),
        settings: SettingsRegistry = SettingsRegistry(),
        figures: FigureRegistry = FigureRegistry(),
        commands: CommandRegistry = CommandRegistry(),
        components: ComponentStore = ComponentStore()
    ) {
        self.out = out
        self.err = err
        self.isInteractive = isInteractive
        self.identity = identity
        self.options = options
        self.settings = settings
        self.figures = figures
        self.commands = commands
        self.components = components
        self.interrupts = InterruptController()
        self.logger = Logger(label: identity.name) { _ in
            ShellLogHandler(writer: err, name: identity.name, level: options.logLevel, format: options.logFormat)
        }
    }

    // MARK: Script location

    /// The script line being run (`FILE:LINE`), or nil at the interactive prompt.
    public var location: ScriptLocation? {
        frames.withLock { $0.last.map { ScriptLocation(name: $0.name, line: $0.line) } }
    }

    /// The directory relative paths in the current script resolve against (the script's own directory;
    /// the working directory for stdin, `-c` and the prompt).
    public var currentDirectory: String {
        frames.withLock { $0.last?.directory } ?? FileManager.default.currentDirectoryPath
    }

    /// Resolves `path` against `currentDirectory` (absolute paths and `~/` stay as they are).
    public func resolvePath(_ path: String) -> String {
        let expanded = (path as NSString).expandingTildeInPath
        if expanded.hasPrefix("/") { return expanded }
        return (currentDirectory as NSString).appendingPathComponent(expanded)
    }

    var frameStack: [ScriptFrame] { frames.current }
    func pushFrame(_ frame: ScriptFrame) { frames.withLock { $0.append(frame) } }
    func popFrame() { frames.withLock { _ = $0.popLast() } }
    func setLine(_ line: Int) { frames.withLock { if !$0.isEmpty { $0[$0.count - 1].line = line } } }

    // MARK: Leaving

    /// Asks the shell to stop after the current command (`quit`); `code` becomes the exit status.
    public func requestExit(code: Int32 = 0) { exitRequest.withLock { $0 = code } }
    /// The exit status requested by `quit`, if any.
    public var requestedExit: Int32? { exitRequest.current }

    // MARK: Output helpers

    /// Prints an aligned table on stdout.
    public func printTable(_ table: Table) { out.write(table.rendered()) }

    /// Prints `value` as one pretty, key-sorted JSON document on stdout.
    public func printJSON<Value: Encodable>(_ value: Value) throws {
        out.print(try Self.jsonText(value))
    }

    /// `value` as `--json` prints it (pretty, keys sorted), for other faces that show the same documents.
    public static func jsonText<Value: Encodable>(_ value: Value) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    /// Prints `value` as JSON when `json` is true, else the table `table(value)` builds: the one call a
    /// reporting command makes.
    public func report<Value: Encodable>(_ value: Value, json: Bool, table: (Value) -> Table) throws {
        if json {
            try printJSON(value)
        } else {
            printTable(table(value))
        }
    }
}

/// How scripts are run.
public struct RunOptions: Sendable, Equatable {
    /// Print each command as `+ command` before running it.
    public var echo: Bool
    /// Run on after a failing command (the exit status still reports the failure).
    public var keepGoing: Bool
    /// How deep `source` may nest.
    public var sourceDepthLimit: Int
    /// The least severe log events written (`--log-level`).
    public var logLevel: Logger.Level
    /// How log events are written (`--log-format`).
    public var logFormat: LogFormat

    public init(
        echo: Bool = false, keepGoing: Bool = false, sourceDepthLimit: Int = 16, logLevel: Logger.Level = .info,
        logFormat: LogFormat = .human
    ) {
        self.echo = echo
        self.keepGoing = keepGoing
        self.sourceDepthLimit = sourceDepthLimit
        self.logLevel = logLevel
        self.logFormat = logFormat
    }
}

/// A script name and line, printed as `NAME:LINE`.
public struct ScriptLocation: Sendable, Equatable, CustomStringConvertible {
    /// The path as the user gave it, `<stdin>` or `<command line>`.
    public let name: String
    public let line: Int
    public var description: String { "\(name):\(line)" }
}

/// One script being run; the stack of frames gives nesting depth and cycle detection for `source`.
public struct ScriptFrame: Sendable {
    public var name: String
    /// Canonical path of a file, nil for stdin and -c.
    public var canonicalPath: String?
    public var directory: String
    public var line: Int = 0
}

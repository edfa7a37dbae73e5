import ArgumentParser
import Foundation
import NSQ
import ShellKit

/// The `playcount` program: parses its own arguments, builds the shell, and runs the interactive prompt,
/// `-c` commands, script files or stdin. `main.swift` only calls `PlaycountMain.run`.
public enum PlaycountMain {
    /// Builds a shell context with the built-in commands and settings registered.
    /// The shell's name, prompt and banner.
    public static let identity = ShellIdentity(name: "playcount")

    public static func makeContext(
        out: ShellWriter = ShellWriter(FileDescriptorSink(descriptor: 1)),
        err: ShellWriter = ShellWriter(FileDescriptorSink(descriptor: 2)),
        isInteractive: Bool = false,
        options: RunOptions = RunOptions()
    ) -> ShellContext {
        let shell = ShellContext(out: out, err: err, isInteractive: isInteractive, identity: identity, options: options)
        BuiltinCommands.register(in: shell)
        shell.settings.register(.topic)
        shell.settings.register(.channel)
        return shell
    }

    /// Runs the program and returns its exit status (see `ExitStatus`).
    /// - Parameters:
    ///   - arguments: the process arguments without the program name.
    ///   - setUp: registers more commands, settings, figures and components before anything runs.
    ///   - tearDown: stops components (broker, processor) before the program exits.
    public static func run(
        arguments: [String],
        setUp: (ShellContext) async throws -> Void = { _ in },
        tearDown: (ShellContext) async -> Void = { _ in }
    ) async -> Int32 {
        let options: PlaycountOptions
        do {
            options = try PlaycountOptions.parse(arguments)
        } catch {
            let status = PlaycountOptions.exitCode(for: error)
            if status == .success {
                FileDescriptorSink(descriptor: 1).write(PlaycountOptions.fullMessage(for: error, columns: 100) + "\n")
                return ExitStatus.success
            }
            FileDescriptorSink(descriptor: 2).write(
                "playcount: \(PlaycountOptions.message(for: error)) (see 'playcount --help')\n")
            return ExitStatus.usage
        }

        let hasScripts = !options.commands.isEmpty || !options.files.isEmpty || !options.scripts.isEmpty
        let interactive = !hasScripts && isatty(0) == 1 && isatty(1) == 1
        // At the prompt, output from other tasks goes above the line being edited.
        let sink: (Int32) -> any TextSink = { interactive ? PromptAwareSink(descriptor: $0) : FileDescriptorSink(descriptor: $0) }
        let shell = makeContext(
            out: ShellWriter(sink(1)), err: ShellWriter(sink(2)),
            isInteractive: interactive, options: RunOptions(
                echo: options.echo, keepGoing: options.keepGoing, logLevel: options.logLevel, logFormat: options.logFormat))
        do {
            try await setUp(shell)
        } catch {
            shell.err.print("playcount: cannot start: \(error)")
            return ExitStatus.commandFailed
        }
        do {
            for (name, value) in try options.settingAssignments {
                try shell.settings.set(name: name, text: value)
            }
        } catch {
            shell.err.print("playcount: \(error) (see 'playcount --help')")
            return ExitStatus.usage
        }
        if let httpAddress = options.httpAddress {
            guard let address = NSQAddress(httpAddress) else {
                shell.err.print("playcount: --http-address takes HOST:PORT, got '\(httpAddress)' (see 'playcount --help')")
                return ExitStatus.usage
            }
            do {
                try await shell.app.http.startOperations(on: address, shell: shell)
            } catch {
                shell.err.print("playcount: \(error)")
                return ExitStatus.commandFailed
            }
        }
        // A reader that goes away (`playcount … | head`) must not kill the shell: writes just fail.
        signal(SIGPIPE, SIG_IGN)
        InterruptWatcher.start(controller: shell.interrupts, interactive: interactive, name: identity.name)

        let status: Int32
        if interactive {
            status = await InteractiveShell(shell: shell, history: HistoryFile.defaultPath(for: identity).map { HistoryFile(path: $0) })
                .run()
        } else {
            status = await runNonInteractive(options, shell: shell)
        }
        await tearDown(shell)
        return status
    }

    /// Runs -c commands, then -f files, then FILE arguments (or stdin when there are none).
    static func runNonInteractive(_ options: PlaycountOptions, shell: ShellContext) async -> Int32 {
        let runner = ScriptRunner(shell: shell)
        var failed = false
        var jobs: [Job] = options.commands.map(Job.commands) + (options.files + options.scripts).map(Job.file)
        if jobs.isEmpty { jobs = [.standardInput] }
        for job in jobs {
            let outcome: ScriptRunner.Outcome
            switch job {
            case .commands(let text):
                outcome = await runner.runCommandString(text)
            case .standardInput:
                outcome = await runner.runDescriptor(0)
            case .file(let path):
                do {
                    outcome = try await runner.runFile(path)
                } catch {
                    shell.err.print("playcount: \(error)")
                    return ExitStatus.scriptUnreadable
                }
            }
            switch outcome {
            case .interrupted:
                return ExitStatus.interrupted
            case .exitRequested(let code, let failures):
                return failures > 0 || failed ? max(code, ExitStatus.commandFailed) : code
            case .stopped:
                return ExitStatus.commandFailed
            case .finished(let failures):
                if failures > 0 { failed = true }
            }
        }
        return failed ? ExitStatus.commandFailed : ExitStatus.success
    }

    enum Job {
        case commands(String)
        case file(String)
        case standardInput
    }
}

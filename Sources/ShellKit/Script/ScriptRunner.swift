import Foundation

/// Runs lines of commands from a script, stdin or `-c`: skips blank lines and `#` comments, echoes with
/// `--echo`, reports errors as `NAME:LINE: error: MESSAGE` on stderr, and stops at the first failure unless
/// `--keep-going`.
public struct ScriptRunner: Sendable {
    /// How a script run ended.
    public enum Outcome: Sendable, Equatable {
        /// Every line ran; `failures` counts failing lines (non-zero only with keep-going).
        case finished(failures: Int)
        /// Stopped at a failing line.
        case stopped
        /// Ctrl-C cancelled a command.
        case interrupted
        /// `quit` asked to leave; `failures` failing lines came before it.
        case exitRequested(code: Int32, failures: Int)

        /// True when nothing failed and nothing was interrupted.
        public var succeeded: Bool {
            switch self {
            case .finished(let failures): return failures == 0
            case .exitRequested(_, let failures): return failures == 0
            case .stopped, .interrupted: return false
            }
        }
    }

    public let shell: ShellContext

    public init(shell: ShellContext) { self.shell = shell }

    /// Runs the script file at `path` (resolved against the current script's directory). Throws
    /// `ShellError` when the file cannot be read, when `source` nests too deep, or on a cycle.
    public func runFile(_ path: String) async throws -> Outcome {
        let resolved = shell.resolvePath(path)
        let frames = shell.frameStack
        if frames.count >= shell.options.sourceDepthLimit {
            throw ShellError("cannot source '\(path)': scripts nested deeper than \(shell.options.sourceDepthLimit) levels")
        }
        let canonical = Self.canonicalPath(resolved)
        if let canonical, let including = frames.first(where: { $0.canonicalPath == canonical }) {
            throw ShellError("cannot source '\(path)': it is already running (\(including.name)); a source cycle never ends")
        }
        let bytes: [UInt8]
        switch LineReader.readFile(resolved) {
        case .success(let content): bytes = content
        case .failure(let reason): throw ShellError("cannot read '\(path)': \(reason.message)")
        }
        let frame = ScriptFrame(
            name: frames.isEmpty ? path : Self.displayName(resolved),
            canonicalPath: canonical,
            directory: ((canonical ?? resolved) as NSString).deletingLastPathComponent)
        return await run(lines: LineReader.stream(LineReader.lines(of: bytes)), frame: frame)
    }

    /// Runs lines read from `descriptor` (stdin) as they arrive, named `<stdin>` in errors.
    public func runDescriptor(_ descriptor: Int32, name: String = "<stdin>") async -> Outcome {
        await run(lines: LineReader.stream(descriptor: descriptor), frame: workingDirectoryFrame(name))
    }

    /// Runs the `;`-separated commands of a `-c` argument, named `<command line>` in errors.
    public func runCommandString(_ text: String, name: String = "<command line>") async -> Outcome {
        let statements = LineTokenizer.statements(text).map { Array($0.utf8) }
        return await run(lines: LineReader.stream(statements), frame: workingDirectoryFrame(name))
    }

    /// Runs the given lines (already split), named `name` in errors. Used by tests and embedding code.
    public func runLines(_ lines: [String], name: String) async -> Outcome {
        await run(lines: LineReader.stream(lines.map { Array($0.utf8) }), frame: workingDirectoryFrame(name))
    }

    /// Runs one line typed at the prompt (errors without a location).
    public func runInteractiveLine(_ line: String) async -> CommandResult {
        await runLine(Array(line.utf8))
    }

    private func workingDirectoryFrame(_ name: String) -> ScriptFrame {
        ScriptFrame(name: name, canonicalPath: nil, directory: FileManager.default.currentDirectoryPath)
    }

    private func run(lines: AsyncStream<[UInt8]>, frame: ScriptFrame) async -> Outcome {
        shell.pushFrame(frame)
        defer { shell.popFrame() }
        var failures = 0
        var lineNumber = 0
        for await bytes in lines {
            lineNumber += 1
            shell.setLine(lineNumber)
            switch await runLine(bytes) {
            case .success:
                break
            case .interrupted:
                return .interrupted
            case .failed:
                failures += 1
                if !shell.options.keepGoing { return .stopped }
            }
            if let code = shell.requestedExit { return .exitRequested(code: code, failures: failures) }
            if Task.isCancelled { return .interrupted }
        }
        return .finished(failures: failures)
    }

    /// Decodes, tokenizes, echoes and executes one line; reports its error (if any) on stderr.
    private func runLine(_ bytes: [UInt8]) async -> CommandResult {
        var bytes = bytes
        if bytes.last == UInt8(ascii: "\r") { bytes.removeLast() }
        guard let line = String(validating: bytes, as: UTF8.self) else {
            return report(.failed(message: "line is not valid UTF-8"))
        }
        let words: [String]
        do {
            words = try LineTokenizer.words(line)
        } catch {
            return report(.failed(message: error.message))
        }
        guard !words.isEmpty else { return .success }
        if shell.options.echo {
            shell.out.print("+ " + line.trimmingCharacters(in: .whitespaces))
        }
        return report(await shell.execute(words))
    }

    private func report(_ result: CommandResult) -> CommandResult {
        switch result {
        case .failed(let message?):
            let prefix = shell.location.map { "\($0): " } ?? ""
            shell.err.print("\(prefix)error: \(message.escapingControlCharacters)")
        case .interrupted where shell.frameStack.count <= 1:
            // Reported once, by the outermost script (or the prompt), at its current line.
            let prefix = shell.location.map { "\($0): " } ?? ""
            shell.err.print("\(prefix)interrupted")
        case .interrupted:
            break
        case .failed(nil), .success:
            break
        }
        return result
    }

    private static func canonicalPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// A sourced file is named relative to the working directory when it lies below it.
    private static func displayName(_ path: String) -> String {
        let cwd = FileManager.default.currentDirectoryPath + "/"
        let standardized = (path as NSString).standardizingPath
        return standardized.hasPrefix(cwd) ? String(standardized.dropFirst(cwd.count)) : standardized
    }
}

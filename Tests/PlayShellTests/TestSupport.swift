import Foundation

@testable import PlayShell
@testable import ShellKit

/// A shell with the built-ins whose stdout and stderr are captured.
struct CapturedShell {
    let shell: ShellContext
    let out = CapturingSink()
    let err = CapturingSink()

    init(options: RunOptions = RunOptions()) {
        shell = PlaycountMain.makeContext(out: ShellWriter(out), err: ShellWriter(err), options: options)
    }

    var runner: ScriptRunner { ScriptRunner(shell: shell) }

    /// Runs `lines` as a script named `name`.
    func run(_ lines: [String], name: String = "test.pc") async -> ScriptRunner.Outcome {
        await runner.runLines(lines, name: name)
    }
}

/// A fresh temporary directory with files written into it; removed by `remove()`.
struct TemporaryDirectory {
    let path: String

    init() throws {
        path = NSTemporaryDirectory() + "playshell-tests-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    @discardableResult
    func write(_ relativePath: String, _ text: String) throws -> String {
        let full = path + "/" + relativePath
        try FileManager.default.createDirectory(
            atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: full, atomically: true, encoding: .utf8)
        return full
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

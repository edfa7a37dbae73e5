import Foundation
import Testing

@testable import PlayShell
@testable import ShellKit

@Suite struct ScriptRunnerTests {
    @Test func skipsCommentsAndBlankLinesAndRunsTheRest() async {
        let captured = CapturedShell()
        let outcome = await captured.run(["# scenario", "", "   ", "echo one", "echo two # note"])
        #expect(outcome == .finished(failures: 0))
        #expect(captured.out.text == "one\ntwo\n")
        #expect(captured.err.text == "")
    }

    @Test func stopsAtTheFirstFailureWithFileAndLine() async {
        let captured = CapturedShell()
        let outcome = await captured.run(["echo a", "", "bogus", "echo never"], name: "s.pc")
        #expect(outcome == .stopped)
        #expect(captured.out.text == "a\n")
        #expect(captured.err.text == "s.pc:3: error: unknown command 'bogus'; type 'help' for the list of commands\n")
    }

    @Test func keepGoingRunsOnAndCountsFailures() async {
        let captured = CapturedShell(options: RunOptions(keepGoing: true))
        let outcome = await captured.run(["bogus", "echo b", "expect topic == x", "echo c"], name: "k.pc")
        #expect(outcome == .finished(failures: 2))
        #expect(!outcome.succeeded)
        #expect(captured.out.text == "b\nc\n")
        #expect(captured.err.text == """
            k.pc:1: error: unknown command 'bogus'; type 'help' for the list of commands
            k.pc:3: error: expected topic == x, got plays

            """)
    }

    @Test func tokenizerAndEncodingErrorsAreLineErrors() async {
        let captured = CapturedShell(options: RunOptions(keepGoing: true))
        let outcome = await captured.runner.runLines(["echo 'open"], name: "q.pc")
        #expect(outcome == .finished(failures: 1))
        #expect(captured.err.text == "q.pc:1: error: unterminated single quote\n")
    }

    @Test func echoOptionPrintsCommandsFirst() async {
        let captured = CapturedShell(options: RunOptions(echo: true))
        _ = await captured.run(["# hidden", "echo  hi   there"])
        #expect(captured.out.text == "+ echo  hi   there\nhi there\n")
    }

    @Test func quitStopsTheScriptWithItsStatus() async {
        let captured = CapturedShell()
        #expect(await captured.run(["echo a", "quit 4", "echo b"]) == .exitRequested(code: 4, failures: 0))
        #expect(captured.out.text == "a\n")
    }

    @Test func commandStringSplitsOnSemicolons() async {
        let captured = CapturedShell()
        let outcome = await captured.runner.runCommandString("echo 'a;b'; echo c; bogus")
        #expect(outcome == .stopped)
        #expect(captured.out.text == "a;b\nc\n")
        #expect(captured.err.text.hasPrefix("<command line>:3: error: unknown command 'bogus'"))
    }

    @Test func sourceFindsFilesNextToTheIncludingScript() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let main = try directory.write("main.pc", "echo main\nsource lib/a.pc\necho back\n")
        try directory.write("lib/a.pc", "echo a\nsource b.pc\n")
        try directory.write("lib/b.pc", "echo b\n")
        let captured = CapturedShell()
        #expect(try await captured.runner.runFile(main) == .finished(failures: 0))
        #expect(captured.out.text == "main\na\nb\nback\n")
        #expect(captured.shell.location == nil)
    }

    @Test func errorsInsideSourcedFilesNameThatFileOnce() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let main = try directory.write("main.pc", "source inner.pc\necho after\n")
        try directory.write("inner.pc", "echo in\n\nexpect channel == x\n")
        let captured = CapturedShell()
        #expect(try await captured.runner.runFile(main) == .stopped)
        #expect(captured.out.text == "in\n")
        let lines = captured.err.text.split(separator: "\n")
        #expect(lines.count == 1)
        #expect(lines.first?.hasSuffix("inner.pc:3: error: expected channel == x, got processor") == true)
    }

    @Test func sourceNestingHasALimit() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        for level in 0..<20 { try directory.write("s\(level).pc", "source s\(level + 1).pc\n") }
        try directory.write("s20.pc", "echo bottom\n")
        let captured = CapturedShell()
        #expect(try await captured.runner.runFile(directory.path + "/s0.pc") == .stopped)
        #expect(captured.out.text == "")
        #expect(captured.err.text.contains("s15.pc:1: error: cannot source 's16.pc': scripts nested deeper than 16 levels"))

        let shallow = CapturedShell()
        #expect(try await shallow.runner.runFile(directory.path + "/s5.pc") == .finished(failures: 0))
        #expect(shallow.out.text == "bottom\n")
    }

    @Test func sourceCyclesAreRefused() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try directory.write("a.pc", "source b.pc\n")
        try directory.write("b.pc", "source a.pc\n")
        let captured = CapturedShell()
        #expect(try await captured.runner.runFile(directory.path + "/a.pc") == .stopped)
        #expect(captured.err.text.contains("b.pc:1: error: cannot source 'a.pc': it is already running"))
    }

    @Test func missingFilesAreClearErrors() async throws {
        let captured = CapturedShell()
        await #expect(throws: ShellError("cannot read '/nonexistent/x.pc': No such file or directory")) {
            try await captured.runner.runFile("/nonexistent/x.pc")
        }
        #expect(await captured.run(["source /nonexistent/y.pc"], name: "m.pc") == .stopped)
        #expect(captured.err.text == "m.pc:1: error: cannot read '/nonexistent/y.pc': No such file or directory\n")
    }

    @Test func invalidUTF8FromADescriptorIsALineError() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path + "/bytes"
        try Data([0x65, 0x63, 0x68, 0x6F, 0x20, 0xFF, 0x0A, 0x65, 0x63, 0x68, 0x6F, 0x20, 0x6F, 0x6B]).write(to: URL(fileURLWithPath: path))
        let descriptor = open(path, O_RDONLY)
        #expect(descriptor >= 0)
        defer { close(descriptor) }
        let captured = CapturedShell(options: RunOptions(keepGoing: true))
        #expect(await captured.runner.runDescriptor(descriptor) == .finished(failures: 1))
        #expect(captured.err.text == "<stdin>:1: error: line is not valid UTF-8\n")
        #expect(captured.out.text == "ok\n")
    }
}

@Suite struct ErrorLineTests {
    @Test func controlCharactersInErrorsAreEscaped() async {
        let captured = CapturedShell()
        _ = await captured.run(["bad\u{1B}[31mname\u{2028}x"], name: "e.pc")
        #expect(captured.err.text == "e.pc:1: error: unknown command 'bad\\u{1B}[31mname\\u{2028}x'; type 'help' for the list of commands\n")
    }
}

@Suite struct InterruptedScriptTests {
    @Test func interruptingANestedScriptStopsEverythingAndSaysSoOnce() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let main = try directory.write("main.pc", "echo start\nsource inner.pc\necho never\n")
        try directory.write("inner.pc", "sleep 30s\necho never\n")
        let captured = CapturedShell()
        let run = Task { try await captured.runner.runFile(main) }
        let deadline = ContinuousClock.now + .seconds(20)
        // Wait until the inner `sleep` runs: two commands (source, sleep) are registered.
        while captured.shell.frameStack.count < 2 || !captured.shell.interrupts.hasRunningCommand
            || captured.shell.location?.line != 1, ContinuousClock.now < deadline
        {
            try await Task.sleep(for: .milliseconds(2))
        }
        captured.shell.interrupts.interrupt()
        #expect(try await run.value == .interrupted)
        #expect(captured.out.text == "start\n")
        #expect(captured.err.text == "\(main):2: interrupted\n")
    }
}

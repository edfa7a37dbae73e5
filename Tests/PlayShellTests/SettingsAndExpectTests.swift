import Testing

@testable import PlayShell
@testable import ShellKit

extension Setting where Value == Int {
    static var testBatch: Setting<Int> {
        Setting(name: "batch", defaultValue: 20, help: "Videos per call.", suggestions: ["10", "20"],
                validate: { (1...20).contains($0) ? nil : "must be 1-20" })
    }
}

@Suite struct SettingsAndExpectTests {
    @Test func builtinSettingsHaveTheirDefaults() {
        let captured = CapturedShell()
        #expect(captured.shell.settings[.topic] == "plays")
        #expect(captured.shell.settings[.channel] == "processor")
        #expect(captured.shell.settings.names == ["topic", "channel"])
    }

    @Test func setValidatesNSQNames() async {
        let captured = CapturedShell()
        #expect(await captured.shell.execute(["set", "topic", "views#ephemeral"]) == .success)
        #expect(captured.shell.settings[.topic] == "views#ephemeral")
        let result = await captured.shell.execute(["set", "channel", "bad name!"])
        #expect(result == .failed(message: "invalid value 'bad name!' for channel: NSQ names are 1-64 characters of [A-Za-z0-9._-], optionally ending in #ephemeral"))
        #expect(captured.shell.settings[.channel] == "processor")
        #expect(await captured.shell.execute(["set", "topic", String(repeating: "t", count: 65)]) != .success)
    }

    @Test func typedSettingsParseAndValidate() async throws {
        let captured = CapturedShell()
        captured.shell.settings.register(.testBatch)
        #expect(await captured.shell.execute(["set", "batch", "5"]) == .success)
        #expect(captured.shell.settings[.testBatch] == 5)
        #expect(await captured.shell.execute(["set", "batch", "five"]) == .failed(message: "'five' is not an integer"))
        #expect(await captured.shell.execute(["set", "batch", "50"]) == .failed(message: "invalid value '50' for batch: must be 1-20"))
        #expect(throws: ShellError.self) { try captured.shell.settings.set(.testBatch, to: 0) }
        #expect(await captured.shell.execute(["set", "nope", "1"]) != .success)
    }

    @Test func showPrintsATableAndJSON() async {
        let captured = CapturedShell()
        #expect(await captured.shell.execute(["show"]) == .success)
        #expect(captured.out.text.hasPrefix("NAME     VALUE      TYPE    DEFAULT    DESCRIPTION\ntopic    plays "))
        let json = CapturedShell()
        #expect(await json.shell.execute(["set", "topic", "t2"]) == .success)
        #expect(await json.shell.execute(["show", "topic", "--json"]) == .success)
        #expect(json.out.text.contains("\"value\" : \"t2\""))
        #expect(json.out.text.contains("\"default\" : \"plays\""))
        #expect(await json.shell.execute(["show", "missing"]) != .success)
    }

    @Test(arguments: [
        (["topic", "==", "plays"], true), (["topic", "!=", "plays"], false),
        (["calls", "<=", "150"], true), (["calls", "<", "120"], false), (["calls", ">", "119.5"], true),
        (["calls", ">=", "121"], false), (["calls", "==", "1_20"], true),
        (["audit", "ok"], true), (["audit", "ok", "==", "false"], false), (["publish", "calls", "!=", "7"], false),
    ])
    func expectComparesFiguresAndSettings(words: [String], holds: Bool) async {
        let captured = CapturedShell()
        captured.shell.figures.register("calls", help: "Publish calls.") { _ in .integer(120) }
        captured.shell.figures.register("audit ok", help: "Audit clean.") { _ in .boolean(true) }
        captured.shell.figures.register("publish calls", help: "Calls, two words.") { _ in .number(7) }
        let result = await captured.shell.execute(["expect"] + words)
        #expect((result == .success) == holds, "\(words): \(result)")
    }

    @Test func failedExpectSaysWhatWasExpectedAndWhatCame() async {
        let captured = CapturedShell()
        captured.shell.figures.register("calls", help: "Publish calls.") { _ in .integer(163) }
        #expect(await captured.shell.execute(["expect", "calls", "<=", "150"]) == .failed(message: "expected calls <= 150, got 163"))
        #expect(await captured.shell.execute(["expect", "topic", "==", "other"]) == .failed(message: "expected topic == other, got plays"))
    }

    @Test func expectRejectsWhatItCannotCompare() async {
        let captured = CapturedShell()
        captured.shell.figures.register("calls", help: "Publish calls.") { _ in .integer(1) }
        for words in [["topic", "<", "x"], ["calls", "==", "many"], ["topic"], ["nothing", "==", "1"], ["calls", "=="], ["==", "1"]] {
            let result = await captured.shell.execute(["expect"] + words)
            guard case .failed(let message?) = result else {
                Issue.record("\(words) should fail with a message, got \(result)")
                continue
            }
            #expect(!message.isEmpty)
        }
    }

    @Test func figureProvidersSeeTheShell() async {
        let captured = CapturedShell()
        captured.shell.figures.register("topic length", help: "Length.") { shell in .integer(shell.settings[.topic].count) }
        #expect(await captured.shell.execute(["expect", "topic", "length", "==", "5"]) == .success)
        #expect(await captured.shell.execute(["expect", "--list"]) == .success)
        #expect(captured.out.text.contains("topic length  figure"))
    }

    @Test func componentsAreStoredByKey() {
        enum NumberKey: ComponentKey { typealias Value = Int }
        let captured = CapturedShell()
        #expect(captured.shell.components[NumberKey.self] == nil)
        captured.shell.components[NumberKey.self] = 42
        #expect(captured.shell.components[NumberKey.self] == 42)
    }
}

import Foundation
import Logging
import Testing

@testable import PlayShell
@testable import ShellKit

/// Log events as people and collectors read them (`--log-format`), and `--log-level` filtering.
@Suite struct ShellLogHandlerTests {
    static let date = Date(timeIntervalSince1970: 1_796_313_600.25)

    @Test func humanLinesReadLikeTheShellsOtherMessages() {
        #expect(ShellLogHandler.line(name: "playcount", level: .warning, message: "invalid message", metadata: [:], format: .human, at: Self.date)
            == "playcount: invalid message")
        #expect(ShellLogHandler.line(
            name: "playcount", level: .error, message: "cannot commit", metadata: ["topic": "plays", "attempt": "2"], format: .human,
            at: Self.date) == "playcount: error: cannot commit (attempt=2 topic=plays)")
    }

    @Test func logfmtQuotesWhatNeedsIt() {
        let line = ShellLogHandler.line(
            name: "playcount", level: .notice, message: "serving plays/processor", metadata: ["state": "/var/lib/a b.sqlite", "k": "v=1"],
            format: .logfmt, at: Self.date)
        #expect(line == #"ts=2026-12-03T16:00:00.250Z level=notice msg="serving plays/processor" k="v=1" state="/var/lib/a b.sqlite""#)
    }

    @Test func jsonLinesParse() throws {
        let line = ShellLogHandler.line(
            name: "playcount", level: .warning, message: "bad \"body\"\n\u{1}", metadata: ["message_id": "0a1b"], format: .json, at: Self.date)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String])
        #expect(object == ["ts": "2026-12-03T16:00:00.250Z", "level": "warning", "msg": "bad \"body\"\n\u{1}", "message_id": "0a1b"])
        #expect(!line.contains("\n"))
    }

    @Test func theLevelFiltersAndEachEventIsOneLine() {
        let sink = CapturingSink()
        let shell = ShellContext(err: ShellWriter(sink), options: RunOptions(logLevel: .warning, logFormat: .logfmt))
        shell.logger.info("not shown")
        shell.logger.warning("shown", metadata: ["nsqd": "127.0.0.1:4150"])
        let lines = sink.text.split(separator: "\n")
        #expect(lines.count == 1)
        #expect(lines.first?.hasSuffix(#"level=warning msg=shown nsqd=127.0.0.1:4150"#) == true)
    }
}

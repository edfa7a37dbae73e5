import Foundation
import Testing

@testable import PlayShell
@testable import ShellKit

@Suite struct OutputAndHistoryTests {
    @Test func tablesAlignColumnsAndRightAlignNumbers() {
        let table = Table(columns: ["VIDEO", "PLAYS", "NOTE"], rows: [["a", "5", "x"], ["bbbbbb", "12345", ""]])
        #expect(table.rendered() == """
            VIDEO   PLAYS  NOTE
            a           5  x
            bbbbbb  12345

            """)
    }

    @Test func historyPathFollowsTheEnvironment() {
        #expect(HistoryFile.defaultPath(for: PlaycountMain.identity, environment: ["PLAYCOUNT_HISTORY": "/h/x", "XDG_STATE_HOME": "/s", "HOME": "/home/u"]) == "/h/x")
        #expect(HistoryFile.defaultPath(for: PlaycountMain.identity, environment: ["XDG_STATE_HOME": "/s", "HOME": "/home/u"]) == "/s/playcount/history")
        #expect(HistoryFile.defaultPath(for: PlaycountMain.identity, environment: ["XDG_STATE_HOME": "relative", "HOME": "/home/u"]) == "/home/u/.local/state/playcount/history")
        #expect(HistoryFile.defaultPath(for: PlaycountMain.identity, environment: [:]) == nil)
    }

    @Test func historyRoundTripsAndKeepsTheNewestLines() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let history = HistoryFile(path: directory.path + "/deep/dir/history", limit: 3)
        #expect(history.load() == [])
        #expect(history.save(["one", "two", "echo 'ü'", "four"]) == nil)
        #expect(history.load() == ["two", "echo 'ü'", "four"])
    }
}

import Foundation
import Testing

@testable import PlayShell
@testable import ShellKit

/// `audit PUBLISH_LOG --receipts RECEIPT_LOG` in a shell that never ran a processor (issue #4's reproduction).
@Suite struct AuditCommandTests {
    static let video = "0f8fad5b-d9cb-469f-a165-70867728950e"
    /// 2023-11-14T22:13:20Z in nanoseconds.
    static let t0: Int64 = 1_700_000_000 * 1_000_000_000

    /// A receipt log: 100 realtime plays of one video read at t0, then a 101st (held) play queued and read at
    /// t0 + 1 s.
    static var receiptLog: String {
        let realtime = String(repeating: """
            {"at_ms": 0, "video_id": "\(video)", "queued_ns": \(t0), "received_ns": \(t0), "batch": 1}

            """, count: 100)
        let held = t0 + 1_000_000_000
        return realtime + """
            {"at_ms": 1000, "video_id": "\(video)", "queued_ns": \(held), "received_ns": \(held), "batch": 2}

            """
    }

    /// A publish log: the 100 realtime plays at t0, the held play `delay` seconds after it was queued; `resend`
    /// repeats the last call as a restarted processor would.
    static func publishLog(heldLateBy delay: Int, resend: Bool = false) -> String {
        let held = """
            {"sequence": 2, "published_at": "2023-11-14T22:\(13 + (21 + delay) / 60):\(String(format: "%02d", (21 + delay) % 60)).000000Z", "counts": {"\(video)": 101}}

            """
        return """
            {"sequence": 1, "published_at": "2023-11-14T22:13:20.000000Z", "counts": {"\(video)": 100}}

            """ + held + (resend ? held : "")
    }

    struct Fixture {
        let captured = CapturedShell()
        let directory: TemporaryDirectory
        let receipts: String

        init() throws {
            PlaycountCommands.install(in: captured.shell)
            directory = try TemporaryDirectory()
            receipts = try directory.write("r.jsonl", AuditCommandTests.receiptLog)
        }

        func audit(heldLateBy delay: Int, resend: Bool = false, _ extra: String...) async throws -> CommandResult {
            let calls = try directory.write("calls-\(delay)-\(resend).jsonl", AuditCommandTests.publishLog(heldLateBy: delay, resend: resend))
            return await captured.shell.execute(["audit", calls, "--receipts", receipts] + extra)
        }
    }

    @Test func aFileAuditChecksAgainstTheMaxStalenessSetting() async throws {
        let fixture = try Fixture()
        defer { fixture.directory.remove() }
        #expect(await fixture.captured.shell.execute(["set", "max-staleness", "3s"]) == .success)
        #expect(try await fixture.audit(heldLateBy: 10) == .success)
        let text = fixture.captured.out.text
        #expect(text.contains("held_play_stale"), "\(text)")
        #expect(text.contains("audit: 1 violation(s) in 101 plays, 2 calls"), "\(text)")
        #expect(!text.contains("audit ok"), "\(text)")
        #expect(text.contains("max staleness 3 s"), "\(text)")
        #expect(text.contains("from the settings"), "\(text)")
    }

    @Test func theDefaultMaxStalenessLetsTenSecondsPassAndFlagsSeventy() async throws {
        let fixture = try Fixture()
        defer { fixture.directory.remove() }
        #expect(try await fixture.audit(heldLateBy: 10) == .success)
        #expect(fixture.captured.out.text.contains("audit ok: 101 plays, 2 calls"), "\(fixture.captured.out.text)")
        #expect(fixture.captured.out.text.contains("max staleness 60 s"))
        #expect(try await fixture.audit(heldLateBy: 70) == .success)
        #expect(fixture.captured.out.text.contains("audit: 1 violation(s)"), "\(fixture.captured.out.text)")
    }

    @Test func theJSONReportNamesTheLimitsAndStrictFails() async throws {
        let fixture = try Fixture()
        defer { fixture.directory.remove() }
        #expect(await fixture.captured.shell.execute(["set", "max-staleness", "3s"]) == .success)
        #expect(await fixture.captured.shell.execute(["set", "realtime-threshold", "100"]) == .success)
        #expect(try await fixture.audit(heldLateBy: 10, "--json") == .success)
        let report = try JSONSerialization.jsonObject(with: Data(fixture.captured.out.text.utf8)) as? [String: Any]
        #expect(report?["ok"] as? Bool == false)
        let limits = report?["limits"] as? [String: Any]
        #expect(limits?["max_staleness_ns"] as? Int == 3_000_000_000)
        #expect(limits?["realtime_threshold"] as? Int == 100)
        #expect(limits?["max_videos_per_call"] as? Int == 20)
        #expect(limits?["source"] as? String == "settings")
        let violations = report?["violations"] as? [[String: Any]]
        #expect(violations?.map { $0["rule"] as? String } == ["held_play_stale"])

        guard case .failed(let message) = try await fixture.audit(heldLateBy: 10, "--strict") else {
            Issue.record("audit --strict succeeded with a violation")
            return
        }
        #expect(message?.contains("1 violation") == true, "\(String(describing: message))")
        #expect(try await fixture.audit(heldLateBy: 2, "--strict") == .success)
    }

    @Test func aResentCallIsCountedNotFlagged() async throws {
        let fixture = try Fixture()
        defer { fixture.directory.remove() }
        #expect(try await fixture.audit(heldLateBy: 10, resend: true) == .success)
        let text = fixture.captured.out.text
        #expect(text.contains("audit ok: 101 plays, 3 calls (1 of them resends)"), "\(text)")
        #expect(!text.contains("unchanged_count"), "\(text)")
    }
}

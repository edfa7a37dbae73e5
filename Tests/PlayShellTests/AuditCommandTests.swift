import Foundation
import Testing

import PlayCounts
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

    /// Two owners of a 2-partition deployment, each with its own publish log and record, audited as one run.
    @Test func ownersLogsAndRecordsAuditAsOneRunWithATablePerPartition() async throws {
        let fixture = try Fixture()
        defer { fixture.directory.remove() }
        // One video per partition, found by the same hash the router uses.
        var owned: [Int: VideoID] = [:]
        var number: UInt64 = 1
        while owned.count < 2 {
            let candidate = VideoID(high: 0xfeed, low: number)
            owned[Partition.of(candidate, count: 2).index] = owned[Partition.of(candidate, count: 2).index] ?? candidate
            number += 1
        }
        var paths: [String] = []
        var records: [String] = []
        for partition in 0..<2 {
            let video = owned[partition]!
            let plays = 3 + partition
            let receipts = (0..<plays).map { _ in
                #"{"at_ms": 0, "video_id": "\#(video)", "queued_ns": \#(Self.t0), "received_ns": \#(Self.t0), "batch": 1}"#
            }
            records.append(try fixture.directory.write("owner\(partition).jsonl", receipts.joined(separator: "\n") + "\n"))
            let call = #"{"sequence": 1, "published_at": "2023-11-14T22:13:20.000000Z", "partition": \#(partition), "partitions": 2, "counts": {"\#(video)": \#(plays)}}"#
            paths.append(try fixture.directory.write("calls\(partition).jsonl", call + "\n"))
        }
        let arguments = ["audit"] + paths + ["--receipts", records[0], "--receipts", records[1]]
        #expect(await fixture.captured.shell.execute(arguments + ["--json"]) == .success)
        let report = try JSONSerialization.jsonObject(with: Data(fixture.captured.out.text.utf8)) as? [String: Any]
        #expect(report?["ok"] as? Bool == true, "\(fixture.captured.out.text)")
        #expect(report?["plays"] as? Int == 7)
        #expect(report?["calls"] as? Int == 2)
        let partitions = report?["partitions"] as? [[String: Any]]
        #expect(partitions?.map { $0["partition"] as? String } == ["0/2", "1/2"])
        #expect(partitions?.map { $0["plays"] as? Int } == [3, 4])

        // Only the last record would leave partition 0's plays unaccounted for.
        let table = CapturedShell()
        PlaycountCommands.install(in: table.shell)
        #expect(await table.shell.execute(arguments) == .success)
        #expect(table.out.text.contains("audit ok: 7 plays, 2 calls"), "\(table.out.text)")
        #expect(table.out.text.contains("PARTITION"), "\(table.out.text)")
    }
}

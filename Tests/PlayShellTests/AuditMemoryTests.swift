import Foundation
import PlayCounts
import Testing

@testable import PlayService
@testable import PlayShell
@testable import ShellKit

/// The `audit-memory` setting and the bounded records `audit` reads without files.
@Suite struct AuditMemoryTests {
    private static func video(_ number: UInt64) -> VideoID { VideoID(high: 0xABC, low: number) }

    private static func plays(_ count: Int, from first: UInt64 = 0) -> [Play] {
        (0..<count).map { Play(video: video(first + UInt64($0)), queuedAt: 1_000 + Int64($0), receivedAt: 2_000 + Int64($0)) }
    }

    private static func call(_ sequence: Int, videos: Int) -> PublishCall {
        PublishCall(
            sequence: sequence, publishedAt: 5_000,
            counts: (0..<videos).map { VideoCount(video: video(UInt64($0)), plays: sequence * 100 + $0) })
    }

    /// A client that accepts every call.
    private struct AcceptingClient: PublishClient {
        func publish(_ call: PublishCall) async throws {}
        var description: String { "accepting" }
    }

    // MARK: The setting

    @Test func parsesAutoAndCountsAndRejectsTheRest() throws {
        #expect(try AuditMemory.parse("auto") == .automatic)
        #expect(try AuditMemory.parse("0") == .plays(0))
        #expect(try AuditMemory.parse("1_500_000") == .plays(1_500_000))
        #expect(throws: ShellError.self) { try AuditMemory.parse("-1") }
        #expect(throws: ShellError.self) { try AuditMemory.parse("lots") }
        #expect(AuditMemory(shellValue: .string("auto")) == .automatic)
        #expect(AuditMemory(shellValue: .integer(7)) == .plays(7))
        #expect(AuditMemory(shellValue: .integer(-7)) == nil)
        #expect(AuditMemory.plays(7).shellValue == .integer(7))
    }

    @Test func autoKeepsPlaysUnderStartAndNoneUnderServe() {
        #expect(AuditMemory.automatic.playLimit(headless: false) == AuditMemory.interactivePlays)
        #expect(AuditMemory.automatic.playLimit(headless: true) == 0)
        #expect(AuditMemory.plays(500).playLimit(headless: true) == 500)
        #expect(AuditMemory.plays(0).playLimit(headless: false) == 0)
    }

    @Test func isRegisteredShownAndSettable() async {
        let captured = CapturedShell()
        PlaycountCommands.install(in: captured.shell)
        #expect(captured.shell.settings[.auditMemory] == .automatic)
        #expect(await captured.shell.execute(["show", "audit-memory"]) == .success)
        #expect(captured.out.text.contains("audit-memory  auto"))
        #expect(await captured.shell.execute(["set", "audit-memory", "0"]) == .success)
        #expect(captured.shell.settings[.auditMemory] == .plays(0))
        #expect(await captured.shell.execute(["expect", "audit-memory", "==", "0"]) == .success)
        #expect(
            await captured.shell.execute(["set", "audit-memory", "lots"])
                == .failed(message: "'lots' is not 'auto' or a number of plays (0 or more)"))
        #expect(throws: ShellError("'-3' is not 'auto' or a number of plays (0 or more)")) {
            try captured.shell.settings.set(name: "audit-memory", text: "-3")
        }
        #expect(captured.shell.settings[.auditMemory] == .plays(0))
        #expect(await captured.shell.execute(["set", "audit-memory", "auto"]) == .success)
        #expect(captured.shell.settings[.auditMemory] == .automatic)
    }

    // MARK: Bounded records

    @Test func keptRecordsKeepWithinTheBudgetThenReleaseEverything() {
        var records = KeptRecords<Int>(limit: 5)
        records.append(contentsOf: [1, 2], cost: 2)
        records.append(contentsOf: [3, 4, 5], cost: 3)
        #expect(records.kept == .success([1, 2, 3, 4, 5]))
        records.append(contentsOf: [6], cost: 1)
        #expect(records.kept == .failure(.overflowed(limit: 5)))
        records.append(contentsOf: [7], cost: 0)  // nothing is kept once it overflowed: a gap would audit wrongly
        #expect(records.kept == .failure(.overflowed(limit: 5)))
    }

    @Test func keptRecordsWithNoBudgetKeepNothing() {
        var records = KeptRecords<Int>(limit: 0)
        #expect(records.kept == .failure(.notKept))
        records.append(contentsOf: [1], cost: 1)
        #expect(records.kept == .failure(.notKept))
        #expect(KeptRecords<Int>(limit: 3).kept == .success([]))
    }

    @Test func receiptRecorderKeepsAtMostTheLimit() {
        let recorder = ReceiptRecorder(file: nil, keepingInMemory: 10)
        recorder.keep(Self.plays(6)[...], batch: 1)
        guard case .success(let kept) = recorder.records else {
            Issue.record("6 of 10 plays should be kept")
            return
        }
        #expect(kept.map(\.video) == Self.plays(6).map(\.video))
        #expect(kept.allSatisfy { $0.batch == 1 })
        recorder.keep(Self.plays(5, from: 6)[...], batch: 2)
        #expect(recorder.records == .failure(.overflowed(limit: 10)))
        recorder.keep(Self.plays(1, from: 11)[...], batch: 3)
        #expect(recorder.records == .failure(.overflowed(limit: 10)))
    }

    @Test func receiptRecorderCanBeToldToKeepNone() {
        let recorder = ReceiptRecorder(file: nil)
        #expect(recorder.memoryLimit == AuditMemory.interactivePlays)
        recorder.keepInMemory(atMost: 0)
        #expect(!recorder.writesFile)
        recorder.keep(Self.plays(3)[...], batch: 1)
        #expect(recorder.records == .failure(.notKept))
    }

    @Test func recordingClientBudgetsVideoCountsAndKeepsLastCountsUnlessTheBudgetIsZero() async throws {
        let client = RecordingPublishClient(AcceptingClient(), keepingInMemory: 30)
        try await client.publish(Self.call(1, videos: 20))
        try await client.publish(Self.call(2, videos: 10))
        #expect(try client.calls.get().map(\.sequence) == [1, 2])
        try await client.publish(Self.call(3, videos: 1))
        #expect(client.calls.map(\.count) == .failure(.overflowed(limit: 30)))
        // `counts` and `expect counts == seeded` still see the last count of every video.
        #expect(client.lastCounts?.count == 20)
        #expect(client.lastCounts?[Self.video(0)] == 300)
        #expect(client.lastCounts?[Self.video(19)] == 119)

        let none = RecordingPublishClient(AcceptingClient())
        none.keepInMemory(atMost: 0)
        try await none.publish(Self.call(1, videos: 2))
        #expect(none.calls.map(\.count) == .failure(.notKept))
        #expect(none.lastCounts == nil)
    }

    // MARK: audit without files

    @Test func auditSaysHowToAuditWhenNothingWasKept() {
        let error = AuditReport.unauditable(.notKept, what: "plays", unit: "plays")
        #expect(error.description.contains("kept no plays in memory"))
        #expect(error.description.contains("set record FILE"))
        #expect(error.description.contains("audit PATH --receipts FILE"))
        let overflow = AuditReport.unauditable(.overflowed(limit: 9), what: "publish calls", unit: "video counts")
        #expect(overflow.description.contains("(9 video counts)"))
    }

    /// A real run on the embedded broker: with `audit-memory 0`, `audit` refuses and says why; the default
    /// audits from memory.
    @Test(.timeLimit(.minutes(2)))
    func auditFromMemoryFollowsTheSetting() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        for (limit, audits) in [("0", false), ("auto", true)] {
            let captured = CapturedShell()
            PlaycountCommands.install(in: captured.shell)
            let outcome = await captured.run([
                "set client file:\(directory.path)/calls-\(limit).jsonl",
                "set audit-memory \(limit)",
                "set realtime-threshold 1000",  // every play realtime: nothing held for a minute
                "seed 300 zipf --videos 20",
                "start",
                "wait drained --timeout 60s",
                "counts",
            ])
            let audit = await captured.shell.execute(["audit"])
            let countsMatch = await captured.shell.execute(["expect", "counts", "==", "seeded"])
            await PlaycountCommands.shutDown(captured.shell)
            #expect(outcome == .finished(failures: 0), "\(captured.err.text)")
            if audits {
                #expect(audit == .success, "\(audit)")
                #expect(captured.out.text.contains("audit ok: 300 plays"))
                #expect(countsMatch == .success, "\(countsMatch)")
            } else {
                // The client's counts were not kept either: `counts` shows '-', `expect counts` says why.
                #expect(captured.out.text.contains(" -\n"))
                #expect(countsMatch == .failed(message: "this run kept no client counts in memory (audit-memory 0; serve keeps none unless it is set); set audit-memory before 'start' to compare them"))
                guard case .failed(let message?) = audit else {
                    Issue.record("audit with audit-memory 0 should fail, got \(audit)")
                    continue
                }
                #expect(message.contains("kept no publish calls in memory") || message.contains("kept no plays in memory"))
            }
        }
    }

    /// `serve` (headless) keeps nothing for `audit` unless `audit-memory` is set.
    @Test(.timeLimit(.minutes(2)), arguments: [("auto", false), ("1000", true)])
    func serveKeepsNothingUnlessSet(limit: String, audits: Bool) async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let captured = CapturedShell()
        PlaycountCommands.install(in: captured.shell)
        let setUp = await captured.run([
            "set client file:\(directory.path)/calls.jsonl",
            "set audit-memory \(limit)",
            "set realtime-threshold 1000",
        ])
        #expect(setUp == .finished(failures: 0))
        let shell = captured.shell
        let serving = Task { await shell.execute(["serve"]) }
        let deadline = ContinuousClock.now + .seconds(30)
        while shell.app.session == nil, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        #expect(shell.app.session != nil, "serve did not start the processor: \(captured.err.text)")
        let fed = await captured.run(["seed 200 zipf --videos 20", "wait drained --timeout 60s"])
        serving.cancel()  // as SIGINT: serve stops the processor gracefully and returns
        #expect(await serving.value == .success)
        let audit = await shell.execute(["audit"])
        await PlaycountCommands.shutDown(shell)
        #expect(fed == .finished(failures: 0), "\(captured.err.text)")
        if audits {
            #expect(audit == .success, "\(audit)")
            #expect(captured.out.text.contains("audit ok: 200 plays"))
        } else {
            guard case .failed(let message?) = audit else {
                Issue.record("audit after serve should fail, got \(audit)")
                return
            }
            #expect(message.hasPrefix("cannot audit from memory: this run kept no"))
        }
    }
}

import Foundation
import Testing
@testable import PlayCounts
@testable import PlayLoad

@Suite("Audit and logs")
struct AuditTests {
    func receipt(_ v: VideoID, _ queued: WallNanoseconds, _ received: WallNanoseconds, batch: Int) -> ReceiptRecord {
        ReceiptRecord(atMs: 0, video: v, queuedAt: queued, receivedAt: received, batch: batch)
    }

    @Test("a clean run has no violations")
    func cleanRun() {
        let receipts = [receipt(video(1), t0, t0, batch: 1), receipt(video(2), t0, t0, batch: 1)]
        let calls = [PublishCall(sequence: 1, publishedAt: t0, counts: [
            VideoCount(video: video(1), plays: 1), VideoCount(video: video(2), plays: 1),
        ])]
        #expect(PublishAudit.check(receipts: receipts, calls: calls, realtimeGrace: 0).isEmpty)
    }

    @Test("every rule is checked")
    func eachRule() {
        let configuration = PublishPolicyConfiguration(realtimeThreshold: 1)
        var receipts = (1...21).map { receipt(video($0), t0, t0, batch: 1) }
        receipts.append(receipt(video(1), t0 + second, t0 + second, batch: 2))  // held play of video 1
        receipts.append(receipt(video(30), t0 + second, t0 + second, batch: 2))  // realtime, never published
        receipts.append(receipt(video(2), t0, t0 + 61 * second, batch: 3))  // read late
        let calls = [
            PublishCall(sequence: 1, publishedAt: t0, counts: (1...21).map { VideoCount(video: video($0), plays: 1) }),
            PublishCall(sequence: 2, publishedAt: t0 + 62 * second, counts: [
                VideoCount(video: video(1), plays: 2), VideoCount(video: video(2), plays: 2),
                VideoCount(video: video(3), plays: 1),
            ]),
            PublishCall(sequence: 3, publishedAt: t0 + 63 * second, counts: [VideoCount(video: video(4), plays: 0)]),
        ]
        let violations = PublishAudit.check(receipts: receipts, calls: calls, configuration: configuration)
        let rules = violations.map(\.rule)
        #expect(rules.filter { $0 == .callTooLarge }.count == 1)
        #expect(violations.contains { $0.rule == .unchangedCount && $0.video == video(3) && $0.sequence == 2 })
        #expect(violations.contains { $0.rule == .countDecreased && $0.video == video(4) })
        #expect(violations.contains { $0.rule == .realtimeNotPublished && $0.video == video(30) })
        #expect(violations.contains { $0.rule == .heldPlayStale && $0.video == video(1) && !$0.unavoidable })
        #expect(violations.contains { $0.rule == .heldPlayStale && $0.video == video(2) && $0.unavoidable })
        #expect(violations.contains { $0.rule == .finalCountMismatch && $0.video == video(30) })
        #expect(violations.contains { $0.rule == .finalCountMismatch && $0.video == video(4) })
        #expect(violations.count == 8, "\(violations)")
    }

    @Test("a realtime play published after the grace is reported")
    func realtimeGrace() {
        let receipts = [receipt(video(1), t0, t0, batch: 1)]
        let calls = [PublishCall(sequence: 1, publishedAt: t0 + 2 * second, counts: [VideoCount(video: video(1), plays: 1)])]
        #expect(PublishAudit.check(receipts: receipts, calls: calls).map(\.rule) == [.realtimeNotPublished])
        #expect(PublishAudit.check(receipts: receipts, calls: calls, realtimeGrace: 3 * second).isEmpty)
    }

    /// Video 1 read 100 times at t0 (realtime, published at once), then a 101st play queued and read at
    /// t0 + 1 s (held): the receipts of issue #4's reproduction.
    func heldPlayReceipts() -> [ReceiptRecord] {
        Array(repeating: receipt(video(1), t0, t0, batch: 1), count: 100)
            + [receipt(video(1), t0 + second, t0 + second, batch: 2)]
    }

    func heldPlayCalls(heldPublishedAfter delay: WallNanoseconds) -> [PublishCall] {
        [
            PublishCall(sequence: 1, publishedAt: t0, counts: [VideoCount(video: video(1), plays: 100)]),
            PublishCall(sequence: 2, publishedAt: t0 + second + delay, counts: [VideoCount(video: video(1), plays: 101)]),
        ]
    }

    @Test("a held play is checked against the max staleness given, and the result names the limits used")
    func maxStalenessIsTheOneGiven() {
        let short = PublishPolicyConfiguration(maxStaleness: 3 * second)
        let tenSecondsLate = PublishAudit.audit(
            receipts: heldPlayReceipts(), calls: heldPlayCalls(heldPublishedAfter: 10 * second), configuration: short)
        #expect(tenSecondsLate.violations.map(\.rule) == [.heldPlayStale], "\(tenSecondsLate.violations)")
        #expect(tenSecondsLate.violations.first?.video == video(1))
        #expect(tenSecondsLate.configuration.maxStaleness == 3 * second)
        #expect(PublishAudit.audit(
            receipts: heldPlayReceipts(), calls: heldPlayCalls(heldPublishedAfter: 2 * second), configuration: short
        ).violations.isEmpty)
        // The default (60 s) lets 10 s pass and flags 70 s.
        #expect(PublishAudit.check(receipts: heldPlayReceipts(), calls: heldPlayCalls(heldPublishedAfter: 10 * second)).isEmpty)
        #expect(PublishAudit.check(receipts: heldPlayReceipts(), calls: heldPlayCalls(heldPublishedAfter: 70 * second))
            .map(\.rule) == [.heldPlayStale])
    }

    @Test("a resend of the latest call with the counts the client was already shown is no rule-4 violation")
    func resendWithTheSameCountsIsNotAnUnchangedCount() {
        let receipts = [receipt(video(1), t0, t0, batch: 1), receipt(video(2), t0, t0, batch: 1)]
        let first = PublishCall(sequence: 1, publishedAt: t0, counts: [
            VideoCount(video: video(1), plays: 1), VideoCount(video: video(2), plays: 1),
        ])
        // The processor crashed before recording the acknowledgement, restarted, and resent call 1 as it was.
        let resend = PublishCall(sequence: 1, publishedAt: t0 + second / 2, counts: first.counts)
        let result = PublishAudit.audit(receipts: receipts, calls: [first, resend])
        #expect(result.violations.isEmpty, "\(result.violations)")
        #expect(result.resends == 1)
        // The same call under a new sequence is a new publish of unchanged counts.
        let republished = PublishCall(sequence: 2, publishedAt: t0 + second / 2, counts: first.counts)
        let again = PublishAudit.audit(receipts: receipts, calls: [first, republished])
        #expect(again.violations.map(\.rule) == [.unchangedCount, .unchangedCount])
        #expect(again.resends == 0)
    }

    @Test("a resend may raise counts and add changed videos; further resends and the next call go on from it")
    func resendWithNewerCounts() {
        let receipts = [
            receipt(video(1), t0, t0, batch: 1), receipt(video(2), t0, t0, batch: 1),
            receipt(video(1), t0 + second, t0 + second, batch: 2), receipt(video(3), t0 + second, t0 + second, batch: 2),
            receipt(video(3), t0 + 2 * second, t0 + 2 * second, batch: 3),
        ]
        let calls = [
            PublishCall(sequence: 1, publishedAt: t0, counts: [VideoCount(video: video(2), plays: 1)]),
            PublishCall(sequence: 2, publishedAt: t0, counts: [VideoCount(video: video(1), plays: 1)]),
            // Call 2 resent with video 1's newer count and video 3 merged in.
            PublishCall(sequence: 2, publishedAt: t0 + second, counts: [
                VideoCount(video: video(1), plays: 2), VideoCount(video: video(3), plays: 1),
            ]),
            // Resent again: video 3 may stay at what the previous attempt carried.
            PublishCall(sequence: 2, publishedAt: t0 + 2 * second, counts: [
                VideoCount(video: video(1), plays: 2), VideoCount(video: video(3), plays: 1),
            ]),
            PublishCall(sequence: 3, publishedAt: t0 + 2 * second, counts: [VideoCount(video: video(3), plays: 2)]),
        ]
        let result = PublishAudit.audit(receipts: receipts, calls: calls, realtimeGrace: 0)
        #expect(result.violations.isEmpty, "\(result.violations)")
        #expect(result.resends == 2)
        // A video merged into a resend is checked like a new call's: video 2's count was shown already. (The
        // next resend keeps it, as it must keep every video sent before with the sequence.)
        var merged = calls
        merged[2].counts.append(VideoCount(video: video(2), plays: 1))
        merged[3].counts.append(VideoCount(video: video(2), plays: 1))
        let unchanged = PublishAudit.audit(receipts: receipts, calls: merged, realtimeGrace: 0).violations
        #expect(unchanged.map(\.rule) == [.unchangedCount], "\(unchanged)")
        #expect(unchanged.first?.video == video(2) && unchanged.first?.sequence == 2)
    }

    @Test("a resend that drops a video or lowers a count is reported")
    func resendGoingBackwards() {
        let receipts = (1...3).map { receipt(video($0), t0, t0, batch: 1) } + [receipt(video(1), t0, t0, batch: 1)]
        let first = PublishCall(sequence: 1, publishedAt: t0, counts: [
            VideoCount(video: video(1), plays: 2), VideoCount(video: video(2), plays: 1), VideoCount(video: video(3), plays: 1),
        ])
        let resend = PublishCall(sequence: 1, publishedAt: t0, counts: [
            VideoCount(video: video(1), plays: 1), VideoCount(video: video(3), plays: 1),
        ])
        let violations = PublishAudit.check(receipts: receipts, calls: [first, resend], realtimeGrace: 0)
        let regressed = violations.filter { $0.rule == .resendRegressed }
        #expect(Set(regressed.compactMap(\.video)) == [video(1), video(2)], "\(violations)")
        #expect(regressed.allSatisfy { $0.sequence == 1 })
        // Video 1 ends at 1 while 2 plays were received.
        #expect(violations.contains { $0.rule == .finalCountMismatch && $0.video == video(1) })
        #expect(violations.count == 3, "\(violations)")
    }

    @Test("a sequence lower than an earlier one is reported, in the order the client received the calls")
    func sequenceGoingBackwards() {
        let receipts = (1...3).map { receipt(video($0), t0, t0, batch: 1) }
        let calls = [1, 3, 2].map { n in
            PublishCall(sequence: n, publishedAt: t0, counts: [VideoCount(video: video(n), plays: 1)])
        }
        let result = PublishAudit.audit(receipts: receipts, calls: calls, realtimeGrace: 0)
        #expect(result.violations.map(\.rule) == [.sequenceBackwards], "\(result.violations)")
        #expect(result.violations.first?.sequence == 2)
        #expect(result.resends == 0)
        // An older sequence repeated after a newer one is no resend either (only the latest call is resent).
        let stale = calls + [calls[0]]
        let repeated = PublishAudit.audit(receipts: receipts, calls: stale, realtimeGrace: 0)
        #expect(repeated.violations.map(\.rule) == [.sequenceBackwards, .sequenceBackwards, .unchangedCount])
        #expect(repeated.resends == 0)
    }

    @Test("RFC 3339 timestamps format and parse exactly")
    func rfc3339() {
        #expect(RFC3339.format(0) == "1970-01-01T00:00:00.000000Z")
        #expect(RFC3339.format(1_700_000_000_123_456_789) == "2023-11-14T22:13:20.123456Z")
        #expect(RFC3339.format(951_782_400 * second) == "2000-02-29T00:00:00.000000Z")
        #expect(RFC3339.format(-1_000) == "1969-12-31T23:59:59.999999Z")
        #expect(RFC3339.parse("2023-11-14T22:13:20.123456Z") == 1_700_000_000_123_456_000)
        #expect(RFC3339.parse("2023-11-14T23:13:20.5+01:00") == 1_700_000_000_500_000_000)
        #expect(RFC3339.parse("2023-11-14T22:13:20Z") == 1_700_000_000 * second)
        for bad in ["", "2023-11-14", "2023-13-01T00:00:00Z", "2023-02-29T00:00:00Z", "2023-11-14T22:13:20.Z",
                    "2023-11-14T22:13:20.1", "2023-11-14T22:13:20Zjunk", "\u{0}\u{ff}garbage"] {
            #expect(RFC3339.parse(bad) == nil, "\(bad)")
        }
        var generator = SeededGenerator(seed: 9)
        for _ in 0..<1_000 {
            let micros = Int64.random(in: -1_000_000_000_000_000...4_000_000_000_000_000, using: &generator)
            #expect(RFC3339.parse(RFC3339.format(micros * 1_000)) == micros * 1_000)
        }
    }

    @Test("publish log lines round-trip and bad lines are reported with their number")
    func publishLog() throws {
        let call = PublishCall(sequence: 7, publishedAt: 1_700_000_000_123_456_000, counts: [
            VideoCount(video: video(2), plays: 150), VideoCount(video: video(1), plays: 3),
        ])
        let line = PublishLog.line(for: call)
        #expect(line.hasPrefix("{\"sequence\": 7, \"published_at\": \"2023-11-14T22:13:20.123456Z\", \"counts\": {"))
        let parsed = try PublishLog.parse(line: line)
        #expect(parsed.sequence == 7)
        #expect(parsed.publishedAt == call.publishedAt)
        #expect(parsed.counts == call.counts.sorted { $0.video < $1.video })
        let text = line + "\n\n" + PublishLog.line(for: PublishCall(sequence: 8, publishedAt: 0, counts: [])) + "\n"
        #expect(try PublishLog.parse(text: text).map(\.sequence) == [7, 8])
        for bad in ["{", "{\"sequence\": 1}", "{\"sequence\": 1, \"published_at\": \"yesterday\", \"counts\": {}}",
                    "{\"sequence\": 1, \"published_at\": \"2023-11-14T22:13:20Z\", \"counts\": {\"nope\": 1}}"] {
            #expect(throws: LogParseError.self) { try PublishLog.parse(text: line + "\n" + bad) }
            do {
                _ = try PublishLog.parse(text: line + "\n" + bad)
            } catch {
                #expect(error.line == 2)
            }
        }
    }

    @Test("what the publish clients write, the publish log parser reads back as the same call")
    func clientOutputRoundTripsThroughPublishLog() throws {
        var random = SeededRandom(seed: 21)
        var calls: [PublishCall] = []
        var clientOutput: [UInt8] = []
        for sequence in 1...300 {
            var videos = Set<VideoID>()
            while videos.count < Int(random.below(21)) { videos.insert(random.guid()) }
            let counts = videos.map { VideoCount(video: $0, plays: Int(random.below(10_000_000))) }
            // Whole microseconds: the log keeps six fractional digits. Negative instants included.
            let micros = Int64(random.below(4_000_000_000_000_000)) - 1_000_000_000_000_000
            let call = PublishCall(sequence: sequence, publishedAt: micros * 1_000, counts: counts)
            calls.append(call)
            clientOutput += PublishCallEncoder.encodeLine(call)
            let parsed = try PublishLog.parse(line: String(decoding: PublishCallEncoder.encode(call), as: UTF8.self))
            #expect(parsed == PublishCall(sequence: sequence, publishedAt: call.publishedAt,
                counts: counts.sorted { $0.video < $1.video }))
        }
        let parsed = try PublishLog.parse(text: String(decoding: clientOutput, as: UTF8.self))
        #expect(parsed == calls.map { PublishCall(sequence: $0.sequence, publishedAt: $0.publishedAt,
            counts: $0.counts.sorted { $0.video < $1.video }) })
    }

    @Test("receipt log lines round-trip")
    func receiptLog() throws {
        let batch = [
            Play(video: video(1), queuedAt: t0 - 5, receivedAt: t0 + 2_500_000),
            Play(video: video(2), queuedAt: t0 - 7, receivedAt: t0 + 2_500_000),
        ]
        let text = ReceiptLog.lines(for: batch, batchNumber: 3, origin: t0)
        #expect(text.hasPrefix("{\"at_ms\": 2, \"video_id\": \"\(video(1))\", \"queued_ns\": \(t0 - 5), "))
        let records = try ReceiptLog.parse(text: text)
        #expect(records.map(\.play) == batch)
        #expect(records.map(\.batch) == [3, 3])
        #expect(records.map(\.atMs) == [2, 2])
        let identified = ReceiptRecord(atMs: 4, video: video(3), queuedAt: t0, receivedAt: t0 + 4_000_000, batch: 9, messageID: "0a1b2c3d4e5f6a7b")
        #expect(try ReceiptLog.parse(text: ReceiptLog.lines(for: [identified])) == [identified])
        let minimal = try ReceiptLog.parse(line: "{\"at_ms\": 12, \"video_id\": \"\(video(9))\"}")
        #expect(minimal.video == video(9))
        #expect(minimal.receivedAt == 12_000_000)
        #expect(throws: LogParseError.self) { try ReceiptLog.parse(text: "{\"at_ms\": 1, \"video_id\": \"x\"}") }
    }

    @Test("audit of a simulated run written to and read back from the logs finds nothing")
    func logsRoundTripThroughAudit() throws {
        let configuration = PublishPolicyConfiguration()
        let trace = liveTrace(seed: 5, videos: ZipfVideos(count: 30, exponent: 1), rate: 20, duration: 300)
        let result = simulate(trace, configuration: configuration)
        let publishText = result.calls.map(PublishLog.line(for:)).joined(separator: "\n")
        var receiptText = ""
        for (index, batch) in trace.enumerated() {
            receiptText += ReceiptLog.lines(for: batch.plays, batchNumber: index + 1, origin: trace[0].readAt)
        }
        let calls = try PublishLog.parse(text: publishText)
        let receipts = try ReceiptLog.parse(text: receiptText)
        #expect(receipts.count == trace.reduce(0) { $0 + $1.plays.count })
        // Timestamps lose their nanoseconds in the log; a microsecond of grace covers that.
        #expect(PublishAudit.check(receipts: receipts, calls: calls, configuration: configuration, realtimeGrace: 1_000).isEmpty)
    }

    @Test("a play recorded twice under one message (redelivered after a crash) counts once, from its last read")
    func aRedeliveredPlayCountsOnce() {
        func record(_ received: WallNanoseconds, batch: Int, id: String?) -> ReceiptRecord {
            ReceiptRecord(atMs: 0, video: video(1), queuedAt: t0, receivedAt: received, batch: batch, messageID: id)
        }
        // Read at t0 (not committed: the processor died), read again at t0 + 5 s and published 100 ms later.
        let receipts = [record(t0, batch: 1, id: "0a1b2c3d4e5f6a7b"), record(t0 + 5 * second, batch: 2, id: "0a1b2c3d4e5f6a7b")]
        let calls = [PublishCall(sequence: 1, publishedAt: t0 + 5 * second + 100_000_000, counts: [VideoCount(video: video(1), plays: 1)])]
        let audit = PublishAudit.audit(receipts: receipts, calls: calls)
        #expect(audit.violations.isEmpty, "\(audit.violations)")
        #expect(audit.plays == 1)
        // Without message ids the two receipts are two plays: the count and the first read's deadline are off.
        let anonymous = receipts.map { var record = $0; record.messageID = nil; return record }
        let rules = PublishAudit.audit(receipts: anonymous, calls: calls).violations.map(\.rule)
        #expect(rules.contains(.finalCountMismatch))
        #expect(rules.contains(.realtimeNotPublished))
    }

    @Test("each violation says when the rule was broken")
    func violationsCarryTheirInstant() {
        let configuration = PublishPolicyConfiguration(realtimeThreshold: 1, maxStaleness: 10 * second)
        let receipts = [
            receipt(video(1), t0, t0, batch: 1),
            receipt(video(1), t0 + second, t0 + second, batch: 2),  // held: due by t0 + 11 s
            receipt(video(2), t0 + 2 * second, t0 + 2 * second, batch: 3),  // realtime: due by t0 + 3 s
        ]
        let calls = [
            PublishCall(sequence: 1, publishedAt: t0, counts: [VideoCount(video: video(1), plays: 1)]),
            PublishCall(sequence: 2, publishedAt: t0 + 20 * second, counts: [
                VideoCount(video: video(1), plays: 2), VideoCount(video: video(2), plays: 1),
            ]),
            PublishCall(sequence: 3, publishedAt: t0 + 21 * second, counts: [VideoCount(video: video(2), plays: 1)]),
        ]
        let violations = PublishAudit.audit(receipts: receipts, calls: calls, configuration: configuration).violations
        let at = Dictionary(violations.map { ($0.rule, $0.at) }, uniquingKeysWith: { first, _ in first })
        #expect(at[.unchangedCount] == t0 + 21 * second)
        #expect(at[.heldPlayStale] == t0 + 11 * second)
        #expect(at[.realtimeNotPublished] == t0 + 3 * second)
        #expect(violations.count == 3)
    }

    @Test("a simulated run whose calls are each delivered twice (every acknowledgement lost) audits clean")
    func everyCallResent() throws {
        let configuration = PublishPolicyConfiguration()
        let trace = liveTrace(seed: 7, videos: ZipfVideos(count: 30, exponent: 1), rate: 20, duration: 300)
        let result = simulate(trace, configuration: configuration)
        var receiptText = ""
        for (index, batch) in trace.enumerated() {
            receiptText += ReceiptLog.lines(for: batch.plays, batchNumber: index + 1, origin: trace[0].readAt)
        }
        let receipts = try ReceiptLog.parse(text: receiptText)
        let doubled = result.calls.flatMap { [$0, $0] }
        let publishText = doubled.map(PublishLog.line(for:)).joined(separator: "\n")
        let audit = PublishAudit.audit(
            receipts: receipts, calls: try PublishLog.parse(text: publishText), configuration: configuration,
            realtimeGrace: 1_000)
        #expect(result.calls.count > 10)
        #expect(audit.violations.count == 0, "\(audit.violations.prefix(5))")
        #expect(audit.resends == result.calls.count)
    }
}

@Suite("Receipt log file")
struct ReceiptLogFileTests {
    @Test("the processor's receipt log written to a file audits clean against its publish log")
    func fileRoundTrip() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("receipts-\(UInt64.random(in: 0...UInt64.max)).jsonl").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let file = try ReceiptLogFile(path: path)
        let clock = ManualWallClock()
        let client = InMemoryPublishClient()
        let processor = PlayProcessor(client: client, clock: clock, receiptSink: file.sink)
        for n in 1...5 {
            await processor.receive(plays((1...n).map(video), queuedAt: clock.now()))
            clock.advance(by: 10_000_000)
        }
        await processor.flush()
        file.close()
        let receiptLog = try String(contentsOfFile: path, encoding: .utf8)
        let publishLog = await client.calls.map(PublishLog.line(for:)).joined(separator: "\n")
        #expect(receiptLog.split(separator: "\n").count == 15)
        #expect(try PublishAudit.check(receiptLog: receiptLog, publishLog: publishLog).isEmpty)
        #expect(throws: LogParseError.self) { try PublishAudit.check(receiptLog: "junk", publishLog: publishLog) }
    }

    @Test("appending goes on from the last batch and the first play's time, and drops a line cut short")
    func appendResumes() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("receipts-\(UInt64.random(in: 0...UInt64.max)).jsonl").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let first = ReceiptRecord(atMs: 0, video: video(1), queuedAt: t0, receivedAt: t0, batch: 1, messageID: "0000000000000001")
        let last = ReceiptRecord(atMs: 7, video: video(2), queuedAt: t0, receivedAt: t0 + 7_000_000, batch: 4, messageID: "0000000000000002")
        try (ReceiptLog.lines(for: [first, last]) + "{\"at_ms\": 9, \"vid").write(toFile: path, atomically: true, encoding: .utf8)

        let appended = try ReceiptLogFile(path: path, appending: true)
        #expect(appended.resumePoint == ReceiptLogFile.ResumePoint(lastBatch: 4, origin: t0))
        appended.write(ReceiptLog.lines(for: [last]))
        appended.close()
        #expect(try ReceiptLog.parse(text: String(contentsOfFile: path, encoding: .utf8)) == [first, last, last])

        let rewritten = try ReceiptLogFile(path: path)
        #expect(rewritten.resumePoint == nil)
        rewritten.close()
        #expect(try String(contentsOfFile: path, encoding: .utf8).isEmpty)
        let fresh = try ReceiptLogFile(path: path, appending: true)
        #expect(fresh.resumePoint == nil)
        fresh.close()
        try "{\"at_ms\": 0, \"vid".write(toFile: path, atomically: true, encoding: .utf8)
        let cutShort = try ReceiptLogFile(path: path, appending: true)
        #expect(cutShort.resumePoint == nil)
        cutShort.close()
        #expect(try String(contentsOfFile: path, encoding: .utf8).isEmpty)
    }
}

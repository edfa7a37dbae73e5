import Foundation
import Testing

@testable import PlayCounts
@testable import PlayLoad

@Suite("Replay traces")
struct TraceTests {
    let a = VideoID("6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b")!
    let b = VideoID("00000000-0000-4000-8000-000000000001")!

    @Test func parsesLinesIgnoringExtraKeysCommentsAndBlanks() {
        let text = """
            # recorded by seed --rate 100
            {"at_ms": 0, "video_id": "6F1C2A9E-3B4D-4E5F-8A7B-9C0D1E2F3A4B"}

            {"at_ms": 12.5, "video_id": "00000000-0000-4000-8000-000000000001", "queued_ns": 1, "received_ns": 2, "batch": 3}
               # indented comment
            {"video_id":"6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b","at_ms":1500}\r
            """
        let result = TraceParser.parse(text)
        #expect(result.errors == [])
        #expect(result.records == [
            TraceRecord(atMilliseconds: 0, video: a),
            TraceRecord(offsetNanoseconds: 12_500_000, video: b),
            TraceRecord(atMilliseconds: 1500, video: a),
        ])
    }

    @Test func reportsEveryBadLineWithItsNumber() {
        let text = """
            {"at_ms": 1, "video_id": "6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b"}
            not json
            {"at_ms": -5, "video_id": "6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b"}
            {"video_id": "6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b"}
            {"at_ms": 3}
            {"at_ms": "3", "video_id": 7}
            {"at_ms": 3, "video_id": "xyz"}
            [1, 2]
            {"at_ms": 3, "at_ms": 4, "video_id": "6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b"}
            {"at_ms": 3, "video_id": "6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b"
            {"at_ms": 4, "video_id": "00000000-0000-4000-8000-000000000001"}
            """
        let result = TraceParser.parse(text)
        #expect(result.records == [TraceRecord(atMilliseconds: 1, video: a), TraceRecord(atMilliseconds: 4, video: b)])
        #expect(result.errors.map(\.line) == [2, 3, 4, 5, 6, 7, 8, 9, 10])
        let messages = result.errors.map(\.description)
        #expect(messages[0].hasPrefix("line 2: not valid JSON"))
        #expect(messages[1].contains("at_ms"))
        #expect(messages[2] == #"line 4: missing "at_ms""#)
        #expect(messages[3] == #"line 5: missing "video_id""#)
        #expect(messages[4] == #"line 6: "at_ms" must be a number; "video_id" must be a string"#)
        #expect(messages[5].contains("not an 8-4-4-4-12 hex GUID"))
        #expect(messages[6] == "line 8: expected a JSON object")
        #expect(messages[7].contains("more than once"))
    }

    @Test func neverCrashesOnRandomBytes() {
        var random = SeededRandom(seed: 99)
        for _ in 0..<2_000 {
            let bytes = (0..<Int(random.below(200))).map { _ in
                random.below(4) == 0 ? UInt8(ascii: "\n") : UInt8(truncatingIfNeeded: random.next())
            }
            let result = TraceParser.parse(bytes)
            let lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).count
            #expect(result.errors.allSatisfy { (1...lines).contains($0.line) })
        }
    }

    @Test func scheduleSortsAndScalesBySpeed() throws {
        let records = [
            TraceRecord(atMilliseconds: 2000, video: a), TraceRecord(atMilliseconds: 0, video: b),
            TraceRecord(atMilliseconds: 1000, video: a), TraceRecord(atMilliseconds: 1000, video: b),
        ]
        let normal = Array(try TraceSchedule(records: records))
        #expect(normal.map(\.dueNanoseconds) == [0, 1_000_000_000, 1_000_000_000, 2_000_000_000])
        #expect(normal.map(\.video) == [b, a, b, a])  // equal offsets keep file order
        #expect(normal[1].due == .seconds(1))
        #expect(normal[0].body == Array(#"{"video_id":"00000000-0000-4000-8000-000000000001"}"#.utf8))

        let fast = try TraceSchedule(records: records, speed: 4)
        #expect(Array(fast).map(\.dueNanoseconds) == [0, 250_000_000, 250_000_000, 500_000_000])
        #expect(fast.duration == .milliseconds(500))
        let slow = try TraceSchedule(records: records, speed: 0.5)
        #expect(Array(slow).last?.due == .seconds(4))
        let instant = try TraceSchedule(records: records, speed: .infinity)
        #expect(Array(instant).allSatisfy { $0.dueNanoseconds == 0 })

        for bad in [0, -1, Double.nan] {
            #expect(throws: SeedPlanError.self) { try TraceSchedule(records: records, speed: bad) }
        }
    }

    @Test func writerOutputReadsBackExactly() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("trace-\(UUID().uuidString).jsonl").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let plan = try SeedPlan(plays: 3_000, seed: 4)
        let writer = try TraceWriter(path: path)
        var expected: [TraceRecord] = []
        for (index, video) in plan.messages.enumerated() {
            let record = TraceRecord(offsetNanoseconds: TraceWriter.offsetNanoseconds(forMessage: index, rate: 300), video: video)
            expected.append(record)
            try await writer.record(record)
        }
        try await writer.record(video: a, offsetNanoseconds: 10_000_123_456)
        expected.append(TraceRecord(offsetNanoseconds: 10_000_123_456, video: a))
        try await writer.close()
        let result = try TraceParser.parse(fileAt: path)
        #expect(result.errors == [])
        #expect(result.records == expected)
        #expect(TraceWriter.line(TraceRecord(offsetNanoseconds: 1_500_000, video: a))
            == #"{"at_ms": 1.5, "video_id": "6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b"}"# + "\n")
        #expect(TraceWriter.offsetNanoseconds(forMessage: 3, rate: 2) == 1_500_000_000)
        await #expect(throws: TraceFileError.self) { try await writer.record(video: a, offsetNanoseconds: 0) }
    }

    @Test func missingFileIsAClearError() {
        #expect(throws: TraceFileError.self) { try TraceParser.parse(fileAt: "/nonexistent/\(UUID().uuidString)") }
    }
}

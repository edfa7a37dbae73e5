import Foundation
import Testing

@testable import PlayCounts
@testable import PlayLoad

@Suite("Publish call encoding")
struct ClientEncoderTests {
    let a = VideoID("6F1C2A9E-3B4D-4E5F-8A7B-9C0D1E2F3A4B")!
    let b = VideoID("00000000-0000-4000-8000-000000000001")!

    @Test func encodesTheDocumentedLine() {
        // 2026-11-29T07:00:00Z is 1_795_935_600 s after the epoch.
        let call = PublishCall(
            sequence: 7, publishedAt: 1_795_935_600_123_456_789,
            counts: [VideoCount(video: a, plays: 120), VideoCount(video: b, plays: 3)])
        let line = String(decoding: PublishCallEncoder.encodeLine(call), as: UTF8.self)
        #expect(
            line == #"{"sequence": 7, "published_at": "2026-11-29T07:00:00.123456Z", "counts": {"6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b": 120, "00000000-0000-4000-8000-000000000001": 3}}"#
                + "\n")
        #expect(PublishCallEncoder.encode(call) + [0x0A] == PublishCallEncoder.encodeLine(call))
    }

    @Test func keepsTheCallsOrderAndHandlesEmptyCounts() throws {
        let call = PublishCall(sequence: 1, publishedAt: 0, counts: [VideoCount(video: b, plays: 1), VideoCount(video: a, plays: 2)])
        let text = String(decoding: PublishCallEncoder.encode(call), as: UTF8.self)
        let first = try #require(text.range(of: b.description))
        let second = try #require(text.range(of: a.description))
        #expect(first.lowerBound < second.lowerBound)
        let empty = PublishCall(sequence: 2, publishedAt: 0, counts: [])
        #expect(String(decoding: PublishCallEncoder.encode(empty), as: UTF8.self)
            == #"{"sequence": 2, "published_at": "1970-01-01T00:00:00.000000Z", "counts": {}}"#)
    }

    @Test func producesJSONThatFoundationReads() throws {
        var random = SeededRandom(seed: 3)
        for sequence in 1...200 {
            let counts = (0..<Int(random.below(21))).map { _ in VideoCount(video: random.guid(), plays: Int(random.below(1_000_000))) }
            let call = PublishCall(sequence: sequence, publishedAt: Int64(random.below(4_000_000_000_000_000_000)), counts: counts)
            let object = try #require(
                try JSONSerialization.jsonObject(with: Data(PublishCallEncoder.encode(call))) as? [String: Any])
            #expect(object["sequence"] as? Int == sequence)
            let decoded = try #require(object["counts"] as? [String: Int])
            #expect(decoded == Dictionary(counts.map { ($0.video.description, $0.plays) }, uniquingKeysWith: { $1 }))
        }
    }

    @Test func formatsTimestampsLikeFoundation() throws {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        formatter.timeZone = TimeZone(identifier: "UTC")
        var random = SeededRandom(seed: 11)
        var instants: [Int64] = [0, 951_782_400_000_000_000, 4_107_542_400_000_000_000, -1, -86_400_000_000_001]
        for _ in 0..<500 { instants.append(Int64(random.below(1 << 62)) - (1 << 60)) }
        for instant in instants {
            let text = RFC3339.format(instant)
            let seconds = instant >= 0 ? instant / 1_000_000_000 : (instant - 999_999_999) / 1_000_000_000
            let micros = (instant - seconds * 1_000_000_000) / 1000
            let expected = formatter.string(from: Date(timeIntervalSince1970: Double(seconds)))
                .replacingOccurrences(of: "Z", with: "." + String(repeating: "0", count: 6 - String(micros).count) + "\(micros)Z")
            #expect(text == expected, "\(instant)")
        }
        #expect(RFC3339.format(951_782_400_000_001_999) == "2000-02-29T00:00:00.000001Z")
        #expect(RFC3339.format(-1) == "1969-12-31T23:59:59.999999Z")
    }
}

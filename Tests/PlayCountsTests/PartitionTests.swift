import NIOCore
import Testing

@testable import PlayCounts

/// The partition hash is a contract between processes and releases: its values are pinned here, computed
/// independently (FNV-1a 64 over the canonical text, in Python) rather than by this code.
@Suite struct PartitionTests {
    @Test(arguments: [
        ("00000000-0000-0000-0000-000000000000", UInt64(0x7c38_4c62_18f2_99f1), 0, 0),
        ("6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b", UInt64(0x7cd0_214a_3957_3097), 2, 2),
        ("FFFFFFFF-ffff-ffff-ffff-ffffffffffff", UInt64(0x7718_f1b2_f3cd_d331), 1, 6),
    ])
    func hashIsFNV1aOfTheCanonicalText(video: String, hash: UInt64, ofThree: Int, ofSeven: Int) throws {
        let id = try #require(VideoID(video))
        #expect(Partition.hash(id) == hash)
        #expect(Partition.of(id, count: 3).index == ofThree)
        #expect(Partition.of(id, count: 7).index == ofSeven)
        #expect(Partition.of(id, count: 1).index == 0)
    }

    @Test func parsesKOverK() {
        #expect(Partition("1/3") == Partition(index: 1, count: 3))
        #expect(Partition("0/1")?.description == "0/1")
        for bad in ["3/3", "-1/3", "1/0", "1", "1/3/4", "a/b", "", "1/\(Partition.maxCount + 1)"] {
            #expect(Partition(bad) == nil, "\(bad)")
        }
    }

    @Test func topicIsSuffixedWithTheIndex() {
        #expect(Partition(index: 2, count: 3)!.topic(of: "plays") == "plays.p2")
    }

    @Test func spreadsVideosOverEveryPartition() {
        var random = SystemRandomNumberGenerator()
        var counts = [0, 0, 0]
        for _ in 0..<3000 {
            counts[Partition.of(VideoID(high: random.next(), low: random.next()), count: 3).index] += 1
        }
        // 1000 expected each; a fair hash stays well inside ±20 %.
        #expect(counts.allSatisfy { (800...1200).contains($0) }, "\(counts)")
    }
}

@Suite struct RoutedPlayBodyTests {
    static let video = VideoID("6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b")!
    static let origin = PlayOrigin(
        queuedAt: 1_764_000_000_123_456_789, idHigh: 0x3031_3233_3435_3637, idLow: 0x3839_6162_6364_6566, attempts: 2)

    @Test func encodesTheOriginAfterTheVideo() {
        let body = String(decoding: RoutedPlayBody.encode(Self.video, origin: Self.origin), as: UTF8.self)
        #expect(body == #"{"video_id":"6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b","queued_at":1764000000123456789,"origin_id":"0123456789abcdef","origin_attempts":2}"#)
    }

    @Test func parsesBackWhatItEncodes() throws {
        let parsed = try PlayMessageParser().parsePlay(RoutedPlayBody.encode(Self.video, origin: Self.origin).withUnsafeBytes {
            ByteBuffer(bytes: $0)
        }).get()
        #expect(parsed == ParsedPlay(video: Self.video, origin: Self.origin))
        // A reader that wants only the video still gets it.
        #expect(try PlayMessageParser().parse(RoutedPlayBody.encode(Self.video, origin: Self.origin)).get() == Self.video)
    }

    /// The fast path gives what the full parser gives (forced by a space the fast path does not accept).
    @Test func theFastPathAgreesWithTheFullParser() throws {
        var random = SystemRandomNumberGenerator()
        for round in 0..<2000 {
            let hex = Array("0123456789abcdef".utf8)
            let id = (0..<16).map { _ in hex[Int(random.next() % 16)] }
            let origin = PlayOrigin(
                queuedAt: round == 0 ? Int64.max : Int64(random.next() % UInt64(Int64.max)) + 1,
                idHigh: id[0..<8].reduce(0) { $0 << 8 | UInt64($1) }, idLow: id[8..<16].reduce(0) { $0 << 8 | UInt64($1) },
                attempts: round == 1 ? 65535 : Int(random.next() % 5) + 1)
            let video = VideoID(high: random.next(), low: random.next())
            let body = RoutedPlayBody.encode(video, origin: origin)
            let fast = try #require(body.withUnsafeBytes { PlayMessageParser.parseRoutedCanonical($0) })
            let spaced = [UInt8(ascii: "{"), UInt8(ascii: " ")] + body.dropFirst()
            #expect(spaced.withUnsafeBytes { PlayMessageParser.parseRoutedCanonical($0) } == nil)
            let full = try PlayMessageParser().parsePlay(ByteBuffer(bytes: spaced)).get()
            #expect(fast == full)
            #expect(fast == ParsedPlay(video: video, origin: origin))
        }
        // Out of range for the fast path: left to the full parser, which refuses or accepts the same way.
        for body in [
            #"{"video_id":"6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b","queued_at":9223372036854775808,"origin_id":"0123456789abcdef","origin_attempts":1}"#,
            #"{"video_id":"6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b","queued_at":01,"origin_id":"0123456789abcdef","origin_attempts":1}"#,
            #"{"video_id":"6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b","queued_at":1,"origin_id":"0123456789abcdef","origin_attempts":65536}"#,
        ] {
            #expect(Array(body.utf8).withUnsafeBytes { PlayMessageParser.parseRoutedCanonical($0) } == nil)
            #expect((try? PlayMessageParser().parsePlay(ByteBuffer(string: body)).get()) == nil, "\(body)")
        }
    }

    @Test func aPlainPlayHasNoOrigin() throws {
        let parsed = try PlayMessageParser().parsePlay(ByteBuffer(string: #"{"video_id": "6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b", "x": 1}"#)).get()
        #expect(parsed.origin == nil)
    }

    @Test(arguments: [
        #"{"video_id":"6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b","queued_at":1}"#,
        #"{"video_id":"6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b","queued_at":"1","origin_id":"0123456789abcdef","origin_attempts":1}"#,
        #"{"video_id":"6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b","queued_at":1,"origin_id":"0123","origin_attempts":1}"#,
        #"{"video_id":"6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b","queued_at":1,"origin_id":"0123456789abcdef","origin_attempts":0}"#,
        #"{"video_id":"6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b","queued_at":1.5,"origin_id":"0123456789abcdef","origin_attempts":1}"#,
        #"{"video_id":"6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b","queued_at":1,"queued_at":2,"origin_id":"0123456789abcdef","origin_attempts":1}"#,
        #"{"video_id":"6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b","queued_at":-5,"origin_id":"0123456789abcdef","origin_attempts":1}"#,
    ])
    func aBrokenOriginIsRejected(body: String) {
        guard case .failure(let rejection) = PlayMessageParser().parsePlay(ByteBuffer(string: body)) else {
            Issue.record("accepted \(body)")
            return
        }
        #expect(rejection.reason == .badOrigin, "\(rejection)")
    }
}

@Suite struct PartitionedCallTests {
    static let call = PublishCall(
        sequence: 7, publishedAt: 1_764_000_000_000_000_000,
        counts: [VideoCount(video: VideoID("6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b")!, plays: 120)],
        partition: Partition(index: 1, count: 3))

    @Test func aPartitionsCallSaysWhichPartitionSentIt() throws {
        let line = String(decoding: PublishCallEncoder.encode(Self.call), as: UTF8.self)
        #expect(line.hasPrefix(#"{"partition": 1, "partitions": 3, "sequence": 7, "published_at": "#))
        #expect(try PublishLog.parse(line: line) == Self.call)
        #expect(Self.call.idempotencyKey == "p1-7")
        var plain = Self.call
        plain.partition = nil
        #expect(plain.idempotencyKey == "7")
        #expect(String(decoding: PublishCallEncoder.encode(plain), as: UTF8.self).hasPrefix(#"{"sequence": 7, "#))
    }

    @Test func aBadPartitionInALogIsRefused() {
        for line in [
            #"{"partition": 3, "partitions": 3, "sequence": 1, "published_at": "2026-11-29T07:00:00.000000Z", "counts": {}}"#,
            #"{"partition": 1, "sequence": 1, "published_at": "2026-11-29T07:00:00.000000Z", "counts": {}}"#,
        ] {
            #expect(throws: LogParseError.self) { try PublishLog.parse(line: line) }
        }
    }
}

import Testing

@testable import PlayWeb

@Suite struct CallFeedTests {
    static let a = "0f8fad5b-d9cb-469f-a165-70867728950e"
    static let b = "7c9e6679-7425-40de-944b-e07fc1f90ae7"

    static func call(_ sequence: Int, _ counts: [(String, Int)]) -> WebCall {
        WebCall(sequence: sequence, publishedAt: "2026-12-04T10:00:0\(sequence % 10).000000Z", counts: counts.map { ($0.0, $0.1) })
    }

    /// The `id:` of each frame.
    static func ids(_ frames: [String]) -> [Int] {
        frames.compactMap { frame in
            frame.split(separator: "\n").first { $0.hasPrefix("id: ") }.flatMap { Int($0.dropFirst(4)) }
        }
    }

    @Test func aLatePageStartsFromASnapshotAndAReconnectingOneGetsWhatItMissed() {
        let feed = CallFeed(replayLimit: 3)
        for sequence in 1...5 { feed.append(Self.call(sequence, [(Self.a, sequence)])) }
        let (late, _) = feed.subscribe(lastEventID: nil)
        #expect(late.count == 1)
        #expect(late[0].hasPrefix("id: 5\nevent: snapshot\ndata: {\"last_event_id\": 5, \"calls\": 5"))
        #expect(late[0].contains("\"\(Self.a)\": [5, "))
        // Missed 4 and 5, both still kept: replayed as they were sent.
        let (resumed, _) = feed.subscribe(lastEventID: 3)
        #expect(Self.ids(resumed) == [4, 5])
        #expect(resumed.allSatisfy { $0.contains("event: call") })
        #expect(feed.subscribe(lastEventID: 5).initial.isEmpty)
        // Missed more than the feed keeps (events 1 and 2 are gone), or an id from another server: a snapshot.
        #expect(feed.subscribe(lastEventID: 1).initial.first?.contains("event: snapshot") == true)
        #expect(feed.subscribe(lastEventID: 99).initial.first?.contains("event: snapshot") == true)
    }

    @Test func followersGetEachCallOnceAndTheStreamEndsAtClose() async {
        let feed = CallFeed()
        let (_, updates) = feed.subscribe(lastEventID: 0)
        #expect(feed.subscriberCount == 1)
        feed.append(Self.call(1, [(Self.a, 1), (Self.b, 2)]))
        feed.append(Self.call(2, [(Self.a, 3)]))
        feed.close()
        var frames: [String] = []
        for await frame in updates { frames.append(frame) }
        #expect(Self.ids(frames) == [1, 2])
        #expect(frames[0].contains(#""counts": {"\#(Self.a)": 1, "\#(Self.b)": 2}"#))
        #expect(feed.append(Self.call(3, [(Self.a, 4)])) == false)  // closed: ignored
        #expect(feed.subscriberCount == 0)
    }

    @Test func aRetryUnderTheSameKeyCountsOnceAndShowsOnlyWhatItRaised() {
        let feed = CallFeed()
        #expect(feed.append(Self.call(7, [(Self.a, 120), (Self.b, 5)]), idempotencyKey: "7"))
        // The retry of call 7 after a lost answer, with a newer count for a: one more event, not one more call.
        #expect(feed.append(Self.call(7, [(Self.a, 125), (Self.b, 5)]), idempotencyKey: "7"))
        #expect(!feed.append(Self.call(7, [(Self.a, 125), (Self.b, 5)]), idempotencyKey: "7"))
        #expect(feed.calls == 1)
        let frames = feed.subscribe(lastEventID: 0).initial
        #expect(Self.ids(frames) == [1, 2])
        #expect(frames[1].contains(#""counts": {"\#(Self.a)": 125}"#))
        // Counts never go back: an older count for a changes nothing.
        feed.append(Self.call(8, [(Self.a, 100)]))
        #expect(feed.snapshotJSON().contains(#""\#(Self.a)": [125, "#))
    }

    @Test func aPageThatFallsBehindIsClosedToCatchUpOnReconnect() async {
        let feed = CallFeed(replayLimit: 100_000)
        let (_, updates) = feed.subscribe(lastEventID: 0)
        // Nobody reads this stream: past its buffer it is closed rather than left to grow.
        for sequence in 1...9000 { feed.append(Self.call(sequence, [(Self.a, sequence)])) }
        #expect(feed.subscriberCount == 0)
        var received = 0
        for await _ in updates { received += 1 }
        #expect(received == 8192)
        #expect(Self.ids(feed.subscribe(lastEventID: received).initial).first == received + 1)
    }

    @Test func webhookBodiesAreCheckedBeforeTheyAreShown() throws {
        let call = try WebCallDecoder.decode(
            Array(#"{"sequence": 3, "published_at": "2026-12-04T10:00:00.5Z", "counts": {"0F8FAD5B-D9CB-469F-A165-70867728950E": 4}}"#.utf8))
        #expect(call.sequence == 3)
        #expect(call.counts.map(\.video) == [Self.a])  // canonical lowercase
        #expect(throws: WebCallDecoder.Invalid.self) { try WebCallDecoder.decode(Array("[]".utf8)) }
        #expect(throws: WebCallDecoder.Invalid.self) {
            try WebCallDecoder.decode(Array(#"{"sequence": 1, "published_at": "yesterday", "counts": {}}"#.utf8))
        }
        #expect(throws: WebCallDecoder.Invalid.self) {
            try WebCallDecoder.decode(
                Array(#"{"sequence": 1, "published_at": "2026-12-04T10:00:00Z", "counts": {"\#(Self.a)": -1}}"#.utf8))
        }
    }
}

import Testing

@testable import PlayCounts

/// The open-addressing table behind every per-video state, checked against a dictionary across many growths.
@Suite struct VideoTableTests {
    @Test func agreesWithADictionary() {
        var table = VideoTable(initial: 0)
        var reference: [VideoID: Int] = [:]
        var generator = SystemRandomNumberGenerator()
        // Ids drawn from a small pool, so most lookups hit; some share a half with others.
        let pool = (0..<3000).map { n in
            VideoID(high: n % 3 == 0 ? 7 : UInt64.random(in: .min ... .max, using: &generator), low: UInt64(n))
        }
        for _ in 0..<40_000 {
            let video = pool.randomElement(using: &generator)!
            let slot = table.slot(of: video)
            #expect(table.videos[slot] == video)
            table.values[slot] += 1
            reference[video, default: 0] += 1
        }
        #expect(table.count == reference.count)
        for video in pool {
            #expect(table.value(of: video) == reference[video, default: 0])
            #expect((table.existingSlot(of: video) != nil) == (reference[video] != nil))
        }
        #expect(table.existingSlot(of: VideoID(high: 1, low: 1)) == nil)
    }

    @Test func slotsAreDenseInFirstSeenOrder() {
        var table = VideoTable(initial: "")
        let videos = (0..<UInt64(1000)).map { VideoID(high: $0, low: ~$0) }
        #expect(videos.map { table.slot(of: $0) } == Array(0..<1000))
        #expect(videos.map { table.slot(of: $0) } == Array(0..<1000))
        #expect(table.videos == videos)
    }
}

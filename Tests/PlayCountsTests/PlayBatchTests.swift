import Testing

@testable import PlayCounts
@testable import PlayLoad

/// A read batch keeps arrival order and groups by video.
@Suite struct PlayBatchTests {
    private func play(_ video: UInt64, queuedAt: WallNanoseconds) -> Play {
        Play(video: VideoID(high: 0, low: video), queuedAt: queuedAt, receivedAt: 1000)
    }

    @Test func groupsByVideoInFirstSeenOrder() {
        let plays = [play(2, queuedAt: 5), play(1, queuedAt: 3), play(2, queuedAt: 4), play(3, queuedAt: 9), play(1, queuedAt: 1)]
        let batch = PlayBatch(plays)
        #expect(batch.plays == plays)
        #expect(batch.videos.map(\.video.low) == [2, 1, 3])
        #expect(batch.videos.map { $0.plays.map(\.queuedAt) } == [[5, 4], [3, 1], [9]])
        #expect(batch.videos.map(\.earliestQueuedAt) == [4, 1, 9])
    }

    @Test func appendingABatchEqualsAppendingItsPlaysOneByOne() {
        var random = SplitMix64(seed: 7)
        for _ in 0..<50 {
            let plays = (0..<Int.random(in: 0...60, using: &random)).map { _ in
                play(UInt64.random(in: 0..<8, using: &random), queuedAt: WallNanoseconds.random(in: 0..<100, using: &random))
            }
            let cut = Int.random(in: 0...plays.count, using: &random)
            var merged = PlayBatch(plays[..<cut])
            merged.append(contentsOf: PlayBatch(plays[cut...]))
            let whole = PlayBatch(plays)
            #expect(merged.plays == whole.plays)
            #expect(merged.videos.map(\.video) == whole.videos.map(\.video))
            #expect(merged.videos.map(\.plays) == whole.videos.map(\.plays))
            #expect(merged.videos.map(\.earliestQueuedAt) == whole.videos.map(\.earliestQueuedAt))
        }
    }
}

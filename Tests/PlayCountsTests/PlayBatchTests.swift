import Testing

@testable import PlayCounts

/// A read batch keeps arrival order and groups by video; appending a batch equals appending its plays.
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

    @Test func appendingABatchEqualsAppendingItsPlays() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<50 {
            let first = (0..<Int.random(in: 0..<40, using: &generator)).map { _ in
                play(UInt64.random(in: 0..<8, using: &generator), queuedAt: .random(in: 0..<100, using: &generator))
            }
            let second = (0..<Int.random(in: 0..<40, using: &generator)).map { _ in
                play(UInt64.random(in: 0..<8, using: &generator), queuedAt: .random(in: 0..<100, using: &generator))
            }
            var merged = PlayBatch(first)
            merged.append(contentsOf: PlayBatch(second))
            let direct = PlayBatch(first + second)
            #expect(merged.plays == direct.plays)
            #expect(merged.videos.map(\.video) == direct.videos.map(\.video))
            #expect(merged.videos.map(\.plays) == direct.videos.map(\.plays))
            #expect(merged.videos.map(\.earliestQueuedAt) == direct.videos.map(\.earliestQueuedAt))
        }
    }
}

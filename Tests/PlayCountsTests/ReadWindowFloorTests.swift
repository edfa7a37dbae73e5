import Testing
@testable import PlayCounts

@Suite("ReadWindowFloor")
struct ReadWindowFloorTests {
    @Test("a backlog read one play at a time has the floor of whole RDY windows")
    func backlogReadInSmallBatches() {
        var recorder = StatsRecorder(readWindow: 50)
        // 45 videos, one play each, all queued before the reader started; read one per batch.
        for number in 0..<45 {
            recorder.recordBatch(plays([video(number)], queuedAt: t0, receivedAt: t0 + second + WallNanoseconds(number)))
        }
        let stats = recorder.snapshot()
        #expect(stats.lowerBound == 45)  // every batch as read forces its own call
        #expect(stats.windowFloor == 3)  // one window of 45 realtime videos: 3 calls of at most 20
    }

    @Test("windows hold at most max-in-flight plays")
    func windowsAreCappedAtTheWindow() {
        var floor = ReadWindowFloor(window: 10)
        for number in 0..<45 {
            floor.observe(plays([video(number)], queuedAt: t0, receivedAt: t0 + second + WallNanoseconds(number)))
        }
        #expect(floor.value == 5)  // windows of 10, 10, 10, 10, 5 videos
    }

    @Test("a play queued after a window was read cannot be in it")
    func liveTrafficKeepsItsBatches() {
        var floor = ReadWindowFloor(window: 2500)
        for number in 0..<45 {
            let queued = t0 + WallNanoseconds(number) * second
            floor.observe(plays([video(number)], queuedAt: queued, receivedAt: queued + 1_000_000))
        }
        #expect(floor.value == 45)
    }

    @Test("without a read window the floor is left out")
    func absentWithoutAWindow() {
        var recorder = StatsRecorder()
        recorder.recordBatch(plays([video(1)], queuedAt: t0))
        #expect(recorder.snapshot().windowFloor == nil)
    }
}

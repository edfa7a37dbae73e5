import PlayCounts

/// One message to send during a replay: when (offset from the replay's start) and what.
public struct TraceEvent: Sendable, Hashable {
    /// When to send, in nanoseconds after the replay starts (already divided by the speed factor).
    public var dueNanoseconds: Int64
    public var video: VideoID

    /// The same offset as a `Duration`.
    public var due: Duration { .nanoseconds(dueNanoseconds) }

    /// The NSQ message body `{"video_id":"<guid>"}`.
    public var body: [UInt8] { SeedPlan.body(for: video) }
}

/// A trace's plays in time order, scaled by a speed factor (2 = twice as fast; `.infinity` = all at once).
/// Records are sorted by offset, stably, so equal offsets keep their file order.
public struct TraceSchedule: Sequence, Sendable {
    public let speed: Double
    private let records: [TraceRecord]

    public init(records: [TraceRecord], speed: Double = 1) throws(SeedPlanError) {
        guard speed > 0, !speed.isNaN else { throw SeedPlanError("the replay speed must be > 0 (got \(speed))") }
        self.speed = speed
        self.records = records.enumerated()
            .sorted { $0.element.offsetNanoseconds != $1.element.offsetNanoseconds
                ? $0.element.offsetNanoseconds < $1.element.offsetNanoseconds : $0.offset < $1.offset }
            .map(\.element)
    }

    public var count: Int { records.count }

    /// The replay's length at this speed.
    public var duration: Duration {
        .nanoseconds(records.last.map { scaled($0.offsetNanoseconds) } ?? 0)
    }

    public func makeIterator() -> AnyIterator<TraceEvent> {
        var index = 0
        let records = self.records
        let speed = self.speed
        return AnyIterator {
            guard index < records.count else { return nil }
            defer { index += 1 }
            let record = records[index]
            return TraceEvent(dueNanoseconds: Self.scale(record.offsetNanoseconds, speed: speed), video: record.video)
        }
    }

    private func scaled(_ offset: Int64) -> Int64 { Self.scale(offset, speed: speed) }

    private static func scale(_ offset: Int64, speed: Double) -> Int64 {
        if speed == 1 { return offset }
        if speed.isInfinite { return 0 }
        let value = (Double(offset) / speed).rounded()
        return value >= Double(Int64.max) ? Int64.max : Int64(value)
    }
}

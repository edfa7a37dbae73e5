import PlayCounts
import Locking

/// Wraps the real client and remembers what it accepted, so `audit`, `counts` and `expect` can check what the
/// client was actually shown.
///
/// The calls are kept for `audit` within a budget of video counts (a call costs its number of videos, at most
/// 20): each count in a call follows at least one play received since that video was last published, so the
/// calls of a run that fits `audit-memory` plays fit the same budget. The last counts (one entry per video,
/// what `counts` and `expect counts == seeded` read) are kept unless the budget is 0: a hash table of every
/// video, about 48 MiB at 1,000,000 videos, that a headless `serve` never reads.
public final class RecordingPublishClient: PublishClient {
    private struct State {
        var calls: KeptRecords<PublishCall>
        var lastCounts: [VideoID: Int]? = [:]
    }

    public let inner: any PublishClient
    private let state: Locked<State>
    private let metrics: PipelineMetrics?

    /// - Parameter limit: the most video counts (summed over calls) kept in memory for `audit`; 0 keeps none.
    /// - Parameter metrics: told of each refused attempt, by kind.
    public init(
        _ inner: any PublishClient, keepingInMemory limit: Int = AuditMemory.interactivePlays,
        metrics: PipelineMetrics? = nil
    ) {
        self.inner = inner
        self.metrics = metrics
        self.state = Locked(State(calls: KeptRecords(limit: limit)))
    }

    /// Changes how many video counts are kept in memory (0: no calls, no last counts); call it before the
    /// first call.
    public func keepInMemory(atMost limit: Int) {
        state.withLock { state in
            state.calls = KeptRecords(limit: limit)
            state.lastCounts = limit > 0 ? [:] : nil
        }
    }

    public var description: String { inner.description }

    public func publish(_ call: PublishCall) async throws {
        do {
            try await inner.publish(call)
        } catch {
            metrics?.clientError(error)
            throw error
        }
        state.withLock { state in
            if state.lastCounts != nil {
                for count in call.counts { state.lastCounts?[count.video] = count.plays }
            }
            state.calls.append(contentsOf: CollectionOfOne(call), cost: max(1, call.counts.count))
        }
    }

    public func shutdown() async { await inner.shutdown() }

    /// The calls the client accepted, in order; or why they were not kept in memory.
    public var calls: Result<[PublishCall], KeptRecordsShortfall> { state.withLock { $0.calls.kept } }

    /// The last count the client was shown for each video; nil when they were not kept (`audit-memory` 0).
    public var lastCounts: [VideoID: Int]? { state.withLock { $0.lastCounts } }
}

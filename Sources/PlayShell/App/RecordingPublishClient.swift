import PlayCounts

/// Wraps the real client and remembers every call it accepted, so `audit`, `counts` and `expect` can check
/// what the client was actually shown.
final class RecordingPublishClient: PublishClient {
    /// Calls kept for `audit`; beyond this many, only the last counts are kept.
    static let callLimit = 1_000_000

    private struct State {
        var calls: [PublishCall] = []
        var overflowed = false
        var lastCounts: [VideoID: Int] = [:]
    }

    let inner: any PublishClient
    private let state = Locked(State())

    init(_ inner: any PublishClient) {
        self.inner = inner
    }

    var description: String { inner.description }

    func publish(_ call: PublishCall) async throws {
        try await inner.publish(call)
        state.withLock { state in
            for count in call.counts { state.lastCounts[count.video] = count.plays }
            if state.calls.count < Self.callLimit {
                state.calls.append(call)
            } else {
                state.overflowed = true
            }
        }
    }

    /// The calls the client accepted, in order; nil when there were too many to keep.
    var calls: [PublishCall]? { state.withLock { $0.overflowed ? nil : $0.calls } }

    /// The last count the client was shown for each video.
    var lastCounts: [VideoID: Int] { state.withLock { $0.lastCounts } }
}

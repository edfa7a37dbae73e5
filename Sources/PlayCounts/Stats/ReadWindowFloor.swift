/// The fewest calls the rules allow if every read had taken a whole RDY window: the trace-level floor beside
/// ``PublishLowerBound``, which counts the batches as they were read.
///
/// A consumer with `window` messages of RDY (max-in-flight) reads at most that many at once, and a read at
/// instant `t` can hold only plays already queued at `t`. So the plays, in the order read, are cut into the
/// largest windows a reader could have taken: a window opens at its first play's read instant `t` and takes the
/// following plays while it has fewer than `window` and they were queued by `t`. `PublishLowerBound` over those
/// windows is the floor. When `calls` sits near `lower_bound` but far above `window_floor`, reading (small read
/// batches), not the policy, costs the calls. A call may carry plays of several windows (the processor gathers
/// windows read back to back while catching up), so `calls` can also fall below this floor.
public struct ReadWindowFloor: Sendable {
    public let window: Int
    private var bound: PublishLowerBound
    private var current: [Play] = []
    private var openedAt: WallNanoseconds = 0

    public init(window: Int, configuration: PublishPolicyConfiguration = PublishPolicyConfiguration()) {
        self.window = max(1, window)
        self.bound = PublishLowerBound(configuration: configuration)
    }

    /// One read batch, its plays in the order read.
    public mutating func observe(_ plays: some Sequence<Play>) {
        for play in plays {
            if !current.isEmpty, current.count >= window || play.queuedAt > openedAt { close() }
            if current.isEmpty { openedAt = play.receivedAt }
            current.append(play)
        }
    }

    /// The floor for the plays observed so far (the open window counted as read).
    public var value: Int {
        var copy = self
        copy.close()
        return copy.bound.value
    }

    private mutating func close() {
        guard !current.isEmpty else { return }
        bound.observe(batch: current)
        current.removeAll(keepingCapacity: true)
    }
}

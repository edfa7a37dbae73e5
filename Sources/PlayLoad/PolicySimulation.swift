import PlayCounts

/// Runs the pure `PublishPolicy` over a trace with an instantaneous client, for tests and benchmarks: calls
/// happen at the instant the policy decides them, wake-ups are honoured exactly, and after the last batch time
/// runs on until nothing is held.
public struct PolicySimulation: Sendable {
    public var calls: [PublishCall] = []
    public var receipts: [ReceiptRecord] = []
    public private(set) var policy: PublishPolicy
    public private(set) var recorder: StatsRecorder

    public var stats: PlayCountStats { recorder.snapshot() }
    public var bound: PublishLowerBound { recorder.bound }

    public init(configuration: PublishPolicyConfiguration = PublishPolicyConfiguration()) {
        policy = PublishPolicy(configuration: configuration)
        recorder = StatsRecorder(configuration: configuration)
    }

    /// Simulates `batches` (in read order); with `flushAtEnd`, flushes right after the last batch.
    public static func run(
        _ batches: [TraceBatch], configuration: PublishPolicyConfiguration = PublishPolicyConfiguration(),
        flushAtEnd: Bool = false
    ) -> PolicySimulation {
        var simulation = PolicySimulation(configuration: configuration)
        simulation.run(batches, flushAtEnd: flushAtEnd)
        return simulation
    }

    /// Checks the simulated run with `PublishAudit` (realtime calls happen at the read instant: no grace).
    public func audit() -> [AuditViolation] {
        PublishAudit.check(receipts: receipts, calls: calls, configuration: policy.configuration, realtimeGrace: 0)
    }

    private mutating func run(_ batches: [TraceBatch], flushAtEnd: Bool) {
        var wakeAt: WallNanoseconds?
        var now: WallNanoseconds = .min
        for (index, batch) in batches.enumerated() {
            while let wake = wakeAt, wake <= batch.readAt {
                now = max(now, wake)
                wakeAt = emit(policy.tick(now: now), at: now)
            }
            now = max(now, batch.readAt)
            for play in batch.plays {
                receipts.append(ReceiptRecord(
                    atMs: 0, video: play.video, queuedAt: play.queuedAt, receivedAt: play.receivedAt, batch: index + 1))
            }
            recorder.recordBatch(batch.plays)
            wakeAt = emit(policy.receive(batch.plays, now: now), at: now)
        }
        if flushAtEnd {
            wakeAt = emit(policy.flush(), at: now)
        }
        while let wake = wakeAt {
            now = max(now, wake)
            wakeAt = emit(policy.tick(now: now), at: now)
        }
    }

    private mutating func emit(_ actions: PublishPolicy.Actions, at instant: WallNanoseconds) -> WallNanoseconds? {
        for counts in actions.calls {
            let call = PublishCall(sequence: calls.count + 1, publishedAt: instant, counts: counts)
            calls.append(call)
            recorder.recordCall(call)
            policy.acknowledge(counts)
        }
        return actions.wakeAt
    }
}

/// What ``PublishAudit/audit(receipts:calls:configuration:realtimeGrace:)`` found, and what it checked against.
public struct PublishAuditResult: Sendable, Hashable {
    /// Every violation, in the order ``PublishAudit`` documents.
    public var violations: [AuditViolation]
    /// Plays checked: the receipts, a play received twice (redelivered after a crash) counted once.
    public var plays: Int
    /// Calls that repeated the latest call's sequence: resends of a call whose acknowledgement was lost, which
    /// the client dedupes by `Idempotency-Key`; not new publishes.
    public var resends: Int
    /// The limits the run was checked against (threshold, max staleness, videos per call).
    public var configuration: PublishPolicyConfiguration
    /// How long after its batch was read a realtime play could become visible.
    public var realtimeGrace: WallNanoseconds

    public init(
        violations: [AuditViolation], plays: Int, resends: Int, configuration: PublishPolicyConfiguration,
        realtimeGrace: WallNanoseconds
    ) {
        self.violations = violations
        self.plays = plays
        self.resends = resends
        self.configuration = configuration
        self.realtimeGrace = realtimeGrace
    }
}

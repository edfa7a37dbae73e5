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

    /// What one partition's owner published (a run without partitions has one, with a nil partition).
    public struct PartitionSummary: Sendable, Hashable {
        public var partition: Partition?
        public var calls: Int
        public var resends: Int
        /// Videos it published.
        public var videos: Int
        /// Plays received whose video hashes to it.
        public var plays: Int

        public init(partition: Partition?, calls: Int, resends: Int, videos: Int, plays: Int) {
            self.partition = partition
            self.calls = calls
            self.resends = resends
            self.videos = videos
            self.plays = plays
        }
    }

    /// One per partition that published, in the order their first calls arrived.
    public var partitions: [PartitionSummary]

    public init(
        violations: [AuditViolation], plays: Int, resends: Int, configuration: PublishPolicyConfiguration,
        realtimeGrace: WallNanoseconds, partitions: [PartitionSummary] = []
    ) {
        self.partitions = partitions
        self.violations = violations
        self.plays = plays
        self.resends = resends
        self.configuration = configuration
        self.realtimeGrace = realtimeGrace
    }
}

/// How a `PlayProcessor` publishes.
public struct PlayProcessorConfiguration: Sendable, Hashable, Codable {
    public var policy: PublishPolicyConfiguration
    public var retry: RetryBackoff
    /// The reader's RDY window (max-in-flight), for the stats' window floor (`ReadWindowFloor`); nil: not shown.
    public var readWindow: Int?
    /// The partition this processor owns, stamped on every call; nil: the whole topic.
    public var partition: Partition?

    public init(
        policy: PublishPolicyConfiguration = PublishPolicyConfiguration(), retry: RetryBackoff = RetryBackoff(),
        readWindow: Int? = nil, partition: Partition? = nil
    ) {
        self.policy = policy
        self.retry = retry
        self.readWindow = readWindow
        self.partition = partition
    }
}

/// How a `PlayProcessor` publishes.
public struct PlayProcessorConfiguration: Sendable, Hashable, Codable {
    public var policy: PublishPolicyConfiguration
    public var retry: RetryBackoff

    public init(policy: PublishPolicyConfiguration = PublishPolicyConfiguration(), retry: RetryBackoff = RetryBackoff()) {
        self.policy = policy
        self.retry = retry
    }
}

/// The processor's state at a glance, for `status` and `status --json`.
public struct ProcessorStatus: Sendable, Hashable, Codable {
    /// Videos with plays not yet published that wait for their deadline.
    public var heldVideos: Int
    /// When the next held video comes due; nil when nothing is held.
    public var nextDeadline: WallNanoseconds?
    public var receivedPlays: Int
    public var invalidMessages: Int
    public var readBatches: Int
    /// Calls the client accepted.
    public var calls: Int
    /// Calls decided but not yet accepted (queued, in flight or waiting to be retried).
    public var pendingCalls: Int
    public var client: String
    public var lastError: String?
    public var consecutiveFailures: Int
    /// When the failed call is tried again; nil when the client is healthy.
    public var retryAt: WallNanoseconds?
    /// Whether `run()` is driving the timers.
    public var running: Bool

    public init(
        heldVideos: Int, nextDeadline: WallNanoseconds?, receivedPlays: Int, invalidMessages: Int, readBatches: Int,
        calls: Int, pendingCalls: Int, client: String, lastError: String?, consecutiveFailures: Int,
        retryAt: WallNanoseconds?, running: Bool
    ) {
        self.heldVideos = heldVideos
        self.nextDeadline = nextDeadline
        self.receivedPlays = receivedPlays
        self.invalidMessages = invalidMessages
        self.readBatches = readBatches
        self.calls = calls
        self.pendingCalls = pendingCalls
        self.client = client
        self.lastError = lastError
        self.consecutiveFailures = consecutiveFailures
        self.retryAt = retryAt
        self.running = running
    }

    /// True when the client accepts calls.
    public var clientHealthy: Bool { consecutiveFailures == 0 }

    enum CodingKeys: String, CodingKey {
        case heldVideos = "held_videos"
        case nextDeadline = "next_deadline_ns"
        case receivedPlays = "received_plays"
        case invalidMessages = "invalid_messages"
        case readBatches = "read_batches"
        case calls
        case pendingCalls = "pending_calls"
        case client
        case lastError = "last_error"
        case consecutiveFailures = "consecutive_failures"
        case retryAt = "retry_at_ns"
        case running
    }
}

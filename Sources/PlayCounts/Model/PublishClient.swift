/// One call to the client: at most 20 videos whose counts changed since they were last published.
public struct PublishCall: Sendable, Hashable {
    /// 1, 2, 3, … per processor (per partition's owner); with ``partition``, the webhook's `Idempotency-Key`.
    public var sequence: Int
    public var publishedAt: WallNanoseconds
    public var counts: [VideoCount]
    /// The partition whose owner made the call; nil for a processor of the whole topic. Sequences are the
    /// owner's own: a client merging owners keys calls by (partition, sequence).
    public var partition: Partition?

    public init(sequence: Int, publishedAt: WallNanoseconds, counts: [VideoCount], partition: Partition? = nil) {
        self.sequence = sequence
        self.publishedAt = publishedAt
        self.counts = counts
        self.partition = partition
    }

    /// What identifies the call to a client across retries: `<sequence>`, or `p<k>-<sequence>` for a
    /// partition's owner (the webhook's `Idempotency-Key`).
    public var idempotencyKey: String {
        guard let partition else { return String(sequence) }
        return "p\(partition.index)-\(sequence)"
    }
}

/// Where publishes go: stdout, a file, or an HTTP webhook.
public protocol PublishClient: Sendable {
    /// Delivers one call; throws when the client did not accept it (the caller retries).
    func publish(_ call: PublishCall) async throws
    /// A short human description, e.g. `stdout` or `http://127.0.0.1:8080/counts`.
    var description: String { get }
    /// Releases what the client holds (a connection, a file) once nothing will call it again.
    func shutdown() async
}

extension PublishClient {
    /// Nothing to release (stdout, the test clients).
    public func shutdown() async {}
}

/// What kind of failure a client's refusal was; bounded, for the `playcount_client_errors_total{kind}` metric.
public enum PublishFailureKind: String, Sendable, Hashable, CaseIterable {
    /// No answer within the client's timeout.
    case timeout
    /// The connection could not be opened.
    case connect
    /// The connection failed before a complete answer.
    case connection
    /// The client answered that it refused the call (an HTTP status outside 2xx).
    case status
    /// The TLS handshake failed (an untrusted or invalid certificate, say).
    case tls
    /// A file or stream that could not be written, and anything else.
    case other
}

/// A client error that knows its ``PublishFailureKind``.
public protocol ClassifiedPublishError: Error {
    var kind: PublishFailureKind { get }
}

/// The processor's source of time, injected so tests can run hours of simulated time in milliseconds.
public protocol WallClock: Sendable {
    func now() -> WallNanoseconds
    /// Suspends until `deadline` (or returns at once if it has passed); throws on cancellation.
    func sleep(until deadline: WallNanoseconds) async throws
}

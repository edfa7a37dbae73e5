#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Everything an ``NSQConsumer`` needs, with nsqd's and go-nsq's defaults.
public struct NSQConsumerConfiguration: Sendable {
    /// nsqd TCP addresses (`host:port`) to connect to directly.
    public var nsqdTCPAddresses: [String]
    /// nsqlookupd HTTP addresses (`host:port`) polled with `/lookup?topic=`.
    public var lookupdHTTPAddresses: [String]
    public var topic: String
    public var channel: String
    /// The most messages in flight over all connections together.
    public var maxInFlight: Int
    /// Messages delivered with more attempts than this go to `onGiveUp` and are FIN'd; 0 disables.
    public var maxAttempts: UInt16
    public var clientID: String
    public var hostname: String
    public var userAgent: String
    /// Sent in IDENTIFY; nil keeps nsqd's default (30 s).
    public var heartbeatInterval: Duration?
    /// Sent in IDENTIFY; nil keeps nsqd's default (60 s).
    public var messageTimeout: Duration?
    /// nsqd's output buffering for this client. These decide how long a message can sit in nsqd
    /// before it is written: for realtime use pick a small timeout (e.g. 25 ms) or `outputBufferSize: -1`.
    public var outputBuffering: OutputBuffering
    /// Delay before the first reconnect; doubled per failure up to `reconnectMaxDelay`, plus up to 25 % jitter.
    public var reconnectInitialDelay: Duration
    public var reconnectMaxDelay: Duration
    /// How often nsqlookupd is polled (plus up to `lookupdPollJitter` of the interval, as a fraction).
    public var lookupdPollInterval: Duration
    public var lookupdPollJitter: Double
    /// Suggested REQ delay for attempt n: `requeueDelay * n`, capped at `maxRequeueDelay` (see ``requeueDelay(forAttempt:)``).
    public var requeueDelay: Duration
    public var maxRequeueDelay: Duration
    /// How long `stop()` waits for in-flight messages to be settled before closing anyway.
    public var drainTimeout: Duration
    public var connectTimeout: Duration
    /// When true, a connection stops reading from its socket after each delivery until the application calls
    /// ``NSQConnectionHandle/resumeReading()``: what nsqd sends meanwhile waits in the socket and is read as
    /// one delivery. For applications that handle deliveries one at a time and gain from large batches (FINs
    /// still go out at once; nsqd keeps sending into the socket). Default false: read continuously.
    public var pauseReadingAfterDelivery: Bool

    /// How nsqd buffers output to this client (IDENTIFY `output_buffer_size` / `output_buffer_timeout`).
    public struct OutputBuffering: Sendable, Hashable {
        /// Bytes; -1 disables buffering; nil keeps nsqd's default (16 KiB).
        public var size: Int?
        /// -1 ms disables the flush timer (then buffered messages wait for a heartbeat!); nil keeps 250 ms.
        public var timeout: Duration?

        public init(size: Int?, timeout: Duration?) {
            self.size = size
            self.timeout = timeout
        }

        /// nsqd's defaults: 16 KiB, flushed at least every 250 ms.
        public static let serverDefault = OutputBuffering(size: nil, timeout: nil)
        /// Every message written at once (no batching by nsqd; lowest latency, most syscalls).
        public static let unbuffered = OutputBuffering(size: -1, timeout: nil)
        /// Buffer up to `size` bytes but flush at least every `timeout` (nsqd's minimum is 25 ms).
        public static func buffered(size: Int = 16 * 1024, timeout: Duration) -> OutputBuffering {
            OutputBuffering(size: size, timeout: timeout)
        }
    }

    public init(
        topic: String, channel: String,
        nsqdTCPAddresses: [String] = [], lookupdHTTPAddresses: [String] = [],
        maxInFlight: Int = 1, maxAttempts: UInt16 = 5,
        clientID: String? = nil, hostname: String? = nil, userAgent: String = "playcount-nsq/1.0",
        heartbeatInterval: Duration? = nil, messageTimeout: Duration? = nil,
        outputBuffering: OutputBuffering = .serverDefault
    ) {
        let host = hostname ?? Self.systemHostname()
        self.topic = topic
        self.channel = channel
        self.nsqdTCPAddresses = nsqdTCPAddresses
        self.lookupdHTTPAddresses = lookupdHTTPAddresses
        self.maxInFlight = maxInFlight
        self.maxAttempts = maxAttempts
        self.clientID = clientID ?? String(host.split(separator: ".").first ?? Substring(host))
        self.hostname = host
        self.userAgent = userAgent
        self.heartbeatInterval = heartbeatInterval
        self.messageTimeout = messageTimeout
        self.outputBuffering = outputBuffering
        self.reconnectInitialDelay = .milliseconds(100)
        self.reconnectMaxDelay = .seconds(10)
        self.lookupdPollInterval = .seconds(60)
        self.lookupdPollJitter = 0.3
        self.requeueDelay = .seconds(1)
        self.maxRequeueDelay = .seconds(15 * 60)
        self.drainTimeout = .seconds(5)
        self.connectTimeout = .seconds(5)
        self.pauseReadingAfterDelivery = false
    }

    /// `gethostname(2)`; unlike `ProcessInfo.hostName` it never waits for DNS.
    static func systemHostname() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// A REQ delay that grows with the attempt count, as go-nsq's default backoff does.
    public func requeueDelay(forAttempt attempts: UInt16) -> Duration {
        min(requeueDelay * Int(max(1, attempts)), maxRequeueDelay)
    }

    var identify: NSQIdentify {
        NSQIdentify(
            clientID: clientID, hostname: hostname, userAgent: userAgent,
            heartbeatInterval: heartbeatInterval, messageTimeout: messageTimeout,
            outputBufferSize: outputBuffering.size, outputBufferTimeout: outputBuffering.timeout)
    }

    func validate() throws {
        guard NSQProtocol.isValidName(topic) else { throw NSQClientError.invalidName(topic) }
        guard NSQProtocol.isValidName(channel) else { throw NSQClientError.invalidName(channel) }
        guard maxInFlight >= 1 else { throw NSQClientError.invalidConfiguration("maxInFlight must be at least 1") }
        guard !nsqdTCPAddresses.isEmpty || !lookupdHTTPAddresses.isEmpty else {
            throw NSQClientError.invalidConfiguration("give at least one nsqd TCP or lookupd HTTP address")
        }
        for address in nsqdTCPAddresses + lookupdHTTPAddresses where NSQAddress(address) == nil {
            throw NSQClientError.invalidConfiguration("address \"\(address)\" is not host:port")
        }
    }
}

/// `host:port` (or `[v6]:port`), parsed.
public struct NSQAddress: Hashable, Sendable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    public init?(_ text: String) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
              (0...65535).contains(port) else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { return nil }
        self.init(host: host, port: port)
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

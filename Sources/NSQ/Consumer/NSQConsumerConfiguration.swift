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
    /// With ``catchUp`` set, this is the live connection's setting.
    public var outputBuffering: OutputBuffering
    /// When set, a second, buffered connection per nsqd takes the RDY window while the consumer is behind
    /// (see ``CatchUp``); nil keeps one connection per nsqd.
    public var catchUp: CatchUp?
    /// When true, messages still in flight after half the negotiated `msg_timeout` are TOUCHed, and again
    /// every half timeout, until they are finished or requeued: an application that may hold a message longer
    /// than the timeout asks for this, instead of a long timeout that would delay redelivery after a crash.
    /// Default false (go-nsq's and pynsq's habit: never TOUCH on one's own).
    public var touchesHeldMessages: Bool
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
    /// still go out at once; nsqd keeps sending into the socket). Default false: read continuously. A catch-up
    /// connection (``CatchUp``) always reads continuously.
    public var pauseReadingAfterDelivery: Bool

    /// Fast draining and realtime latency at once, on a stock nsqd.
    ///
    /// Unbuffered output (`output_buffer_size` -1) makes nsqd write every message at once, which a realtime
    /// consumer needs, but it costs nsqd three socket writes per message: draining a backlog that way is many
    /// times slower than with nsqd's buffered output. Buffered output drains fast but holds each message until
    /// nsqd's buffer fills or its timer ticks (25 ms at the least on a stock nsqd). No single setting does both,
    /// so the consumer keeps two connections to every nsqd, both subscribed to the channel, and gives the
    /// nsqd's share of RDY to one of them at a time (RDY being NSQ's own flow control):
    /// - **live** (the `outputBuffering` connection, unbuffered for realtime use) while messages arrive as nsqd
    ///   stamps them;
    /// - **catching up** (this buffered connection) once a message is read `enterLag` or more after nsqd stamped
    ///   it. It never pauses reading: each read is delivered at once and nsqd refills the window as messages
    ///   are FIN'd, so the next reads are decoded while the application processes the last ones (waiting for a
    ///   whole window before processing it left nsqd and the application idle in turn: 1.5x slower).
    ///   Applications that want a backlog's reads together gather catch-up deliveries themselves.
    /// The consumer goes back to live when a catch-up delivery did not fill the window and its youngest message
    /// is at most `leaveLag` old, or when no catch-up delivery follows a partial one within `idleAfter`.
    ///
    /// The lag compares nsqd's clock (the message timestamp) with this host's: hosts must keep their clocks
    /// in step (NTP), as anything that uses nsqd's timestamps as deadlines must.
    public struct CatchUp: Sendable, Hashable {
        /// The catch-up connection's IDENTIFY buffering: 16 KiB and 25 ms, the lowest timeout a stock nsqd accepts.
        public var outputBuffering: OutputBuffering
        public var enterLag: Duration
        public var leaveLag: Duration
        public var idleAfter: Duration

        public init(
            outputBuffering: OutputBuffering = .buffered(size: 16 * 1024, timeout: .milliseconds(25)),
            enterLag: Duration = .milliseconds(100), leaveLag: Duration = .milliseconds(50),
            idleAfter: Duration = .milliseconds(100)
        ) {
            self.outputBuffering = outputBuffering
            self.enterLag = enterLag
            self.leaveLag = leaveLag
            self.idleAfter = idleAfter
        }
    }

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
        self.catchUp = nil
        self.touchesHeldMessages = false
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

    /// The IDENTIFY of a connection in `role`.
    func identify(for role: NSQConnectionRole) -> NSQIdentify {
        let buffering = role == .catchUp ? (catchUp?.outputBuffering ?? outputBuffering) : outputBuffering
        return NSQIdentify(
            clientID: clientID, hostname: hostname, userAgent: userAgent,
            heartbeatInterval: heartbeatInterval, messageTimeout: messageTimeout,
            outputBufferSize: buffering.size, outputBufferTimeout: buffering.timeout)
    }

    /// The connections kept to every nsqd.
    var roles: [NSQConnectionRole] { catchUp == nil ? [.live] : [.live, .catchUp] }

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

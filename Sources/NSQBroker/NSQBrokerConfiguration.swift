import NIOCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Settings of the embedded broker, named and defaulted like nsqd v1.3.0's options.
public struct NSQBrokerConfiguration: Sendable {
    /// Address both listeners bind to. Loopback by default.
    public var host: String = "127.0.0.1"
    /// TCP (protocol V2) port; 0 picks a free port.
    public var tcpPort: Int = 4150
    /// HTTP API port (nsqd API plus nsqlookupd's `/lookup` and `/nodes`); 0 picks a free port.
    public var httpPort: Int = 4151
    /// Address advertised in `/info` and `/lookup`; nil means `host` (or the hostname when `host` is a wildcard).
    public var broadcastAddress: String?
    /// Hostname reported in `/info` and `/lookup`.
    public var hostname: String = NSQBrokerConfiguration.systemHostname()
    /// Default time a client has to FIN a message before it is requeued (IDENTIFY `msg_timeout` overrides).
    public var msgTimeout: TimeAmount = .seconds(60)
    /// Upper bound of a client's `msg_timeout` and of TOUCH extensions.
    public var maxMsgTimeout: TimeAmount = .minutes(15)
    /// Upper bound of RDY.
    public var maxRdyCount: Int64 = 2500
    /// Default heartbeat interval (IDENTIFY `heartbeat_interval` overrides).
    public var heartbeatInterval: TimeAmount = .seconds(30)
    /// Upper bound of a client's `heartbeat_interval`.
    public var maxHeartbeatInterval: TimeAmount = .seconds(60)
    /// Largest single message body.
    public var maxMsgSize: Int64 = 1_048_576
    /// Largest MPUB / IDENTIFY / HTTP mpub body.
    public var maxBodySize: Int64 = 5 * 1_048_576
    /// Largest REQ / DPUB delay.
    public var maxReqTimeout: TimeAmount = .hours(1)
    /// Default per-client output buffer size in bytes.
    public var outputBufferSize: Int = 16 * 1024
    /// Default per-client output buffer flush timeout.
    public var outputBufferTimeout: TimeAmount = .milliseconds(250)
    /// Smallest `output_buffer_timeout` a client may ask for.
    public var minOutputBufferTimeout: TimeAmount = .milliseconds(25)
    /// Largest `output_buffer_size` a client may ask for.
    public var maxOutputBufferSize: Int = 65536
    /// Largest `output_buffer_timeout` a client may ask for.
    public var maxOutputBufferTimeout: TimeAmount = .seconds(30)
    /// How often timed-out and due deferred messages are looked for (nsqd's queue scan interval).
    public var queueScanInterval: TimeAmount = .milliseconds(100)

    public init(host: String = "127.0.0.1", tcpPort: Int = 4150, httpPort: Int = 4151) {
        self.host = host
        self.tcpPort = tcpPort
        self.httpPort = httpPort
    }

    /// The address clients are told to connect to.
    public var resolvedBroadcastAddress: String {
        if let broadcastAddress { return broadcastAddress }
        if host == "0.0.0.0" || host == "::" || host.isEmpty { return hostname }
        return host
    }

    public static func systemHostname() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// Wall-clock time in nanoseconds since the epoch (message timestamps).
enum WallClock {
    static func nanoseconds() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Int64(spec.tv_sec) * 1_000_000_000 + Int64(spec.tv_nsec)
    }
}

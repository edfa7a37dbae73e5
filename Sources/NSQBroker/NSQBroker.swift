import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import NSQ

/// An embedded, memory-only broker that speaks nsqd v1.3.0's protocol: TCP protocol V2 and the HTTP API.
///
/// The HTTP port also answers nsqlookupd's `GET /lookup?topic=` and `GET /nodes` (plus `/topics` and
/// `/channels?topic=`) for this one broker, so a client configured with a lookupd HTTP address equal to
/// the broker's HTTP address discovers it like it would discover nsqd through nsqlookupd.
///
/// All state lives on one event loop of `eventLoopGroup`; TCP and HTTP connections are served on that loop.
///
/// Differences from nsqd v1.3.0, all deliberate:
/// - queues are in memory only (no disk backend, no `--mem-queue-size` overflow);
/// - TLS, AUTH (`E_AUTH_DISABLED`), snappy and deflate are not offered (IDENTIFY answers `false` for them);
/// - after `CLS` the server closes the connection once the client's in-flight messages settle (nsqd leaves
///   the close to the client); pausing topics/channels is not implemented;
/// - timeouts and deferred messages are checked every `queueScanInterval` (100 ms), like nsqd's queue scan.
/// As in nsqd, a disconnected client's in-flight messages are redelivered only when they time out.
///
/// ```swift
/// let broker = NSQBroker(configuration: .init(tcpPort: 0, httpPort: 0))
/// try await broker.start()
/// print(broker.tcpAddress!, broker.httpAddress!)
/// try await broker.stop()
/// ```
public final class NSQBroker: Sendable {
    public let configuration: NSQBrokerConfiguration
    private let eventLoop: any EventLoop
    private let core: NIOLoopBoundBox<BrokerCore>
    private let listeners = NIOLockedValueBox<Listeners>(Listeners())

    private struct Listeners {
        var tcp: (any Channel)?
        var http: (any Channel)?
    }

    public init(
        configuration: NSQBrokerConfiguration = NSQBrokerConfiguration(),
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) {
        self.configuration = configuration
        let loop = eventLoopGroup.next()
        self.eventLoop = loop
        self.core = NIOLoopBoundBox.makeBoxSendingValue(
            BrokerCore(configuration: configuration, eventLoop: loop), as: BrokerCore.self, eventLoop: loop)
    }

    /// The bound TCP (protocol V2) address, after ``start()``.
    public var tcpAddress: SocketAddress? { listeners.withLockedValue { $0.tcp?.localAddress } }
    /// The bound HTTP address, after ``start()``.
    public var httpAddress: SocketAddress? { listeners.withLockedValue { $0.http?.localAddress } }
    /// The bound TCP port, after ``start()``.
    public var tcpPort: Int? { tcpAddress?.port }
    /// The bound HTTP port, after ``start()``.
    public var httpPort: Int? { httpAddress?.port }

    /// Binds both listeners (port 0 picks a free port).
    public func start() async throws {
        let core = self.core
        let limits = NSQCommandDecoder.Limits(
            maxMsgSize: configuration.maxMsgSize, maxBodySize: configuration.maxBodySize,
            maxReqTimeoutMilliseconds: configuration.maxReqTimeout.nanoseconds / 1_000_000)
        let tcp = try await ServerBootstrap(group: eventLoop, childGroup: eventLoop)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(NSQCommandDecoder(limits: limits)))
                    try channel.pipeline.syncOperations.addHandler(ClientConnection(core: core.value))
                }
            }
            .bind(host: configuration.host, port: configuration.tcpPort).get()
        let http: any Channel
        do {
            http = try await ServerBootstrap(group: eventLoop, childGroup: eventLoop)
                .serverChannelOption(.backlog, value: 256)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                        try channel.pipeline.syncOperations.addHandler(HTTPAPIHandler(core: core.value))
                    }
                }
                .bind(host: configuration.host, port: configuration.httpPort).get()
        } catch {
            try? await tcp.close()
            throw error
        }
        let tcpPort = tcp.localAddress?.port ?? 0
        let httpPort = http.localAddress?.port ?? 0
        try await eventLoop.submit {
            core.value.tcpPort = tcpPort
            core.value.httpPort = httpPort
        }.get()
        listeners.withLockedValue {
            $0.tcp = tcp
            $0.http = http
        }
    }

    /// Closes both listeners and every client connection. A stopped broker is not meant to be started again.
    public func stop() async throws {
        let (tcp, http) = listeners.withLockedValue { value in
            defer { value = Listeners() }
            return (value.tcp, value.http)
        }
        try? await tcp?.close()
        try? await http?.close()
        let core = self.core
        try await eventLoop.submit { core.value.stop() }.get()
    }

    /// Publishes bodies to a topic in-process, exactly as a PUB/MPUB would (ids, timestamps, channels).
    public func publish(topic: String, bodies: [ByteBuffer]) async throws {
        guard NSQProtocol.isValidName(topic) else { throw NSQBrokerAPIError.invalidTopic(topic) }
        guard !bodies.isEmpty else { return }
        for body in bodies where body.readableBytes == 0 || Int64(body.readableBytes) > configuration.maxMsgSize {
            throw NSQBrokerAPIError.invalidMessageSize(body.readableBytes)
        }
        let core = self.core
        try await eventLoop.submit {
            core.value.publish(topic: topic, bodies: bodies)
        }.get()
    }

    /// Creates a topic and, optionally, one of its channels (like `/topic/create` and `/channel/create`).
    public func create(topic: String, channel: String? = nil) async throws {
        guard NSQProtocol.isValidName(topic) else { throw NSQBrokerAPIError.invalidTopic(topic) }
        if let channel, !NSQProtocol.isValidName(channel) { throw NSQBrokerAPIError.invalidChannel(channel) }
        let core = self.core
        try await eventLoop.submit {
            let created = core.value.topic(named: topic)
            if let channel { _ = created.channel(named: channel) }
        }.get()
    }

    /// A snapshot of topics, channels and clients.
    public func stats() async -> NSQBrokerStats {
        let core = self.core
        return (try? await eventLoop.submit { core.value.stats() }.get())
            ?? NSQBrokerStats(topics: [], producers: [], startTime: 0)
    }
}

/// Errors of ``NSQBroker``'s in-process API.
public enum NSQBrokerAPIError: Error, Equatable, Sendable {
    case invalidTopic(String)
    case invalidChannel(String)
    /// A body is empty or larger than `maxMsgSize`.
    case invalidMessageSize(Int)
}

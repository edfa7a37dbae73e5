import DequeModule
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// Publishes to one nsqd over TCP. Commands are pipelined: many may be outstanding at once and
/// each call awaits its own `OK`. After a dropped connection the next call reconnects.
public final class NSQProducer: Sendable {
    /// `host:port` of the nsqd.
    public let address: String
    private let parsedAddress: NSQAddress?
    private let eventLoopGroup: any EventLoopGroup
    private let connectTimeout: Duration
    private let connection = NIOLockedValueBox<EventLoopFuture<any Channel>?>(nil)

    public init(
        address: String, eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        connectTimeout: Duration = .seconds(5)
    ) {
        self.address = address
        self.parsedAddress = NSQAddress(address)
        self.eventLoopGroup = eventLoopGroup
        self.connectTimeout = connectTimeout
    }

    /// `PUB`: one message, awaits `OK`. nsqd's errors are thrown as ``NSQServerError``.
    public func publish(topic: String, body: ByteBuffer) async throws {
        try validate(topic: topic, bodies: CollectionOfOne(body))
        try await Self.publicErrors { try await sendRetryingOnce(.publish(topic: topic, body: body)) }
    }

    public func publish(topic: String, body: String) async throws {
        try await publish(topic: topic, body: ByteBuffer(string: body))
    }

    /// `MPUB`: several messages in one command (atomically accepted or refused by nsqd).
    public func multiPublish(topic: String, bodies: [ByteBuffer]) async throws {
        guard !bodies.isEmpty else { return }
        try validate(topic: topic, bodies: bodies)
        try await Self.publicErrors { try await sendRetryingOnce(.multiPublish(topic: topic, bodies: bodies)) }
    }

    /// `DPUB`: delivered after `delay` (milliseconds resolution).
    public func deferredPublish(topic: String, body: ByteBuffer, delay: Duration) async throws {
        try validate(topic: topic, bodies: CollectionOfOne(body))
        try await Self.publicErrors {
            try await sendRetryingOnce(.deferredPublish(topic: topic, delayMilliseconds: max(0, delay.milliseconds), body: body))
        }
    }

    /// Publishes many bodies as MPUB batches of at most `batchCount` messages / `batchBytes` bytes,
    /// keeping up to `maxOutstanding` batches in flight. Throws the first error; batches before
    /// it are published.
    public func publishBatched(
        topic: String, bodies: some Sequence<ByteBuffer>,
        batchCount: Int = 512, batchBytes: Int = 1 << 20, maxOutstanding: Int = 8
    ) async throws {
        guard NSQProtocol.isValidName(topic) else { throw NSQClientError.invalidName(topic) }
        try await Self.publicErrors {
            try await pipelineBatches(topic: topic, bodies: bodies, batchCount: batchCount, batchBytes: batchBytes, maxOutstanding: maxOutstanding)
        }
    }

    private func pipelineBatches(
        topic: String, bodies: some Sequence<ByteBuffer>, batchCount: Int, batchBytes: Int, maxOutstanding: Int
    ) async throws {
        var window = Deque<EventLoopFuture<Void>>()
        var batch: [ByteBuffer] = []
        var bytes = 0
        func flushBatch() async throws {
            guard !batch.isEmpty else { return }
            let command: NSQCommand = batch.count == 1
                ? .publish(topic: topic, body: batch[0]) : .multiPublish(topic: topic, bodies: batch)
            window.append(try await send(command))
            batch.removeAll(keepingCapacity: true)
            bytes = 0
            while window.count >= max(1, maxOutstanding), let oldest = window.popFirst() {
                try await oldest.get()
            }
        }
        for body in bodies {
            guard body.readableBytes > 0 else { throw NSQClientError.emptyBody }
            if !batch.isEmpty && (batch.count >= batchCount || bytes + body.readableBytes > batchBytes) {
                try await flushBatch()
            }
            batch.append(body)
            bytes += body.readableBytes + 4
        }
        try await flushBatch()
        while let oldest = window.popFirst() { try await oldest.get() }
    }

    /// Closes the connection (outstanding commands fail with `connectionClosed`).
    public func close() async {
        let current = connection.withLockedValue { value -> EventLoopFuture<any Channel>? in
            defer { value = nil }
            return value
        }
        if let channel = try? await current?.get() {
            try? await channel.close()
        }
    }

    // MARK: internals

    /// Internal "never sent" failures surface as ``NSQClientError/connectionClosed``.
    private static func publicErrors(_ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch is ProducerRequestNotSent {
            throw NSQClientError.connectionClosed
        }
    }

    private func validate(topic: String, bodies: some Collection<ByteBuffer>) throws {
        guard NSQProtocol.isValidName(topic) else { throw NSQClientError.invalidName(topic) }
        guard bodies.allSatisfy({ $0.readableBytes > 0 }) else { throw NSQClientError.emptyBody }
    }

    /// Sends and awaits the answer; a command the dropped connection never sent goes once more on a new one.
    private func sendRetryingOnce(_ command: NSQCommand) async throws {
        do {
            try await send(command).get()
        } catch is ProducerRequestNotSent {
            try await send(command).get()
        }
    }

    /// Writes a command on the live connection (connecting first if needed); the future is its answer.
    /// A command never written fails with ``ProducerRequestNotSent``.
    private func send(_ command: NSQCommand) async throws -> EventLoopFuture<Void> {
        let channel = try await activeChannel()
        let promise = channel.eventLoop.makePromise(of: Void.self)
        let written = channel.eventLoop.makePromise(of: Void.self)
        // A write that never reaches the handler (channel already closed) must still settle the request.
        written.futureResult.whenFailure { _ in promise.fail(ProducerRequestNotSent()) }
        channel.writeAndFlush(ProducerRequest(command: command, promise: promise), promise: written)
        return promise.futureResult
    }

    private func activeChannel() async throws -> any Channel {
        guard let parsedAddress else { throw NSQClientError.invalidConfiguration("address \"\(address)\" is not host:port") }
        let group = eventLoopGroup
        let timeout = connectTimeout
        let future = connection.withLockedValue { current -> EventLoopFuture<any Channel> in
            if let current { return current }
            let next = Self.connect(to: parsedAddress, group: group, timeout: timeout)
            current = next
            return next
        }
        if let channel = try? await future.get(), channel.isActive { return channel }
        // The connection failed or dropped: replace it (once, however many callers noticed).
        let replacement = connection.withLockedValue { current -> EventLoopFuture<any Channel> in
            if let current, current !== future { return current }
            let next = Self.connect(to: parsedAddress, group: group, timeout: timeout)
            current = next
            return next
        }
        return try await replacement.get()
    }

    private static func connect(to address: NSQAddress, group: any EventLoopGroup, timeout: Duration) -> EventLoopFuture<any Channel> {
        ClientBootstrap(group: group)
            .connectTimeout(.milliseconds(timeout.milliseconds))
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(NSQFrameDecoder()))
                    try channel.pipeline.syncOperations.addHandler(ProducerChannelHandler())
                }
            }
            .connect(host: address.host, port: address.port)
    }
}

import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// Opens one consumer connection: TCP, then IDENTIFY and SUB, done when SUB is answered.
enum ConsumerConnection {
    struct Connected: Sendable {
        let handle: NSQConnectionHandle
        let identify: NSQIdentifyResponse
    }

    static func connect(
        to address: NSQAddress, role: NSQConnectionRole = .live, configuration: NSQConsumerConfiguration,
        eventLoopGroup: any EventLoopGroup, status: NIOLockedValueBox<NSQConnectionStatus>,
        callbacks: ConsumerChannelHandler.Callbacks, metrics: NSQConsumerMetrics? = nil
    ) async throws -> Connected {
        let eventLoop = eventLoopGroup.any()
        let subscribed = eventLoop.makePromise(of: NSQIdentifyResponse.self)
        let handlePromise = eventLoop.makePromise(of: NSQConnectionHandle.self)
        let stateMachine = ConsumerConnectionStateMachine(
            topic: configuration.topic, channel: configuration.channel,
            identify: configuration.identify(for: role), maxAttempts: configuration.maxAttempts)
        let closeTimeout = TimeAmount.milliseconds(configuration.drainTimeout.milliseconds)
        let connectTimeout = TimeAmount.milliseconds(configuration.connectTimeout.milliseconds)
        let addressText = address.description
        let heartbeat = configuration.heartbeatInterval ?? .seconds(30)
        let readTimeout = TimeAmount.milliseconds(max(1000, heartbeat.milliseconds) * 2 + 5000)
        let (requeueDelay, maxRequeueDelay) = (configuration.requeueDelay, configuration.maxRequeueDelay)
        // A catch-up connection reads on while its deliveries are processed: nsqd refills the window as they are
        // FIN'd, and the next reads are decoded meanwhile (see NSQConsumerConfiguration.CatchUp).
        let pauseReadingAfterDelivery = configuration.pauseReadingAfterDelivery && role == .live
        let touchesHeldMessages = configuration.touchesHeldMessages
        status.withLockedValue { $0.state = .connecting }

        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: eventLoop)
                .connectTimeout(connectTimeout)
                .channelOption(.tcpOption(.tcp_nodelay), value: 1)
                .channelOption(.recvAllocator, value: AdaptiveRecvByteBufferAllocator(minimum: 1024, initial: 16 * 1024, maximum: 256 * 1024))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let handler = ConsumerChannelHandler(
                            stateMachine: stateMachine, callbacks: callbacks, status: status,
                            closeTimeout: closeTimeout, subscribed: subscribed,
                            pauseReadingAfterDelivery: pauseReadingAfterDelivery,
                            touchesHeldMessages: touchesHeldMessages, metrics: metrics)
                        let handle = NSQConnectionHandle(
                            address: addressText, role: role, channel: channel, handler: handler,
                            requeueDelay: requeueDelay, maxRequeueDelay: maxRequeueDelay)
                        handler.attach(handle: handle)
                        // nsqd sends a heartbeat every interval; two missed ones mean the server is gone.
                        try channel.pipeline.syncOperations.addHandler(IdleStateHandler(readTimeout: readTimeout))
                        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(NSQFrameDecoder()))
                        try channel.pipeline.syncOperations.addHandler(handler)
                        handlePromise.succeed(handle)
                    }
                }
                .connect(host: address.host, port: address.port).get()
        } catch {
            subscribed.fail(error)
            handlePromise.fail(error)
            throw error
        }
        let handle = try await handlePromise.futureResult.get()
        // A server that never answers IDENTIFY/SUB must not hang us.
        let timeout = eventLoop.scheduleTask(in: connectTimeout) {
            subscribed.fail(NSQClientError.unexpectedResponse("no answer to IDENTIFY/SUB"))
            channel.close(promise: nil)
        }
        defer { timeout.cancel() }
        do {
            let identify = try await subscribed.futureResult.get()
            return Connected(handle: handle, identify: identify)
        } catch {
            channel.close(promise: nil)
            throw error
        }
    }
}

import NIOCore
import NIOHTTP1
import NIOPosix

import PlayCounts
/// POSTs each publish call as JSON to an `http://` webhook over one kept-alive HTTP/1.1 connection.
///
/// One attempt per ``publish(_:)``: the caller retries. Headers: `Content-Type: application/json`,
/// `Idempotency-Key: <sequence>`. A non-2xx answer throws ``WebhookPublishError`` with its status; no answer
/// within `timeout` (connecting included) throws a timeout and drops the connection. The connection is
/// reopened when the server has closed it; if a *reused* connection turns out to be dead before any answer
/// byte arrives (the server's idle close raced the request), the request is sent once more on a fresh
/// connection — safe, since the body carries the idempotency key. Cancelling the calling task ends the
/// attempt at once with `CancellationError` (and drops the connection, whose state is then unknown).
public actor WebhookPublishClient: PublishClient {
    public nonisolated let url: WebhookURL
    public nonisolated let timeout: Duration
    public nonisolated var description: String { url.description }

    private let group: any EventLoopGroup
    private var channel: (any Channel)?
    /// Publish calls run one at a time (the actor alone would interleave them at suspension points).
    private var busy = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    /// - Parameters:
    ///   - url: `http://host[:port][/path]`; `https://` is refused with an explanation.
    ///   - timeout: the limit for one attempt, connecting included.
    public init(
        url: String,
        timeout: Duration = .seconds(5),
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) throws {
        self.url = try WebhookURL(url)
        self.timeout = timeout
        self.group = eventLoopGroup
    }

    public func publish(_ call: PublishCall) async throws {
        await acquire()
        defer { release() }
        let deadline = NIODeadline.now() + Self.timeAmount(timeout)
        var body = ByteBufferAllocator().buffer(capacity: 64 + 52 * call.counts.count)
        body.writeBytes(PublishCallEncoder.encode(call))
        let head = requestHead(sequence: call.sequence, contentLength: body.readableBytes)

        if let existing = channel, existing.isActive {
            do {
                try await send(head: head, body: body, on: existing, deadline: deadline)
                return
            } catch is ConnectionLostBeforeAnswer {
                // Most likely the server closed the idle kept-alive connection as we wrote: retry once below.
            }
        }
        try Task.checkCancellation()
        let fresh = try await connect(deadline: deadline)
        do {
            try await send(head: head, body: body, on: fresh, deadline: deadline)
        } catch let loss as ConnectionLostBeforeAnswer {
            throw WebhookPublishError.connectionFailed(url.description, loss.why)
        }
    }

    /// Closes the connection; a later publish opens a new one.
    public func shutdown() async {
        if let channel {
            self.channel = nil
            try? await channel.close()
        }
    }

    deinit {
        channel?.close(promise: nil)
    }

    // MARK: One attempt

    private func send(head: HTTPRequestHead, body: ByteBuffer, on channel: any Channel, deadline: NIODeadline) async throws {
        let promise = channel.eventLoop.makePromise(of: WebhookResponse.self)
        let timeoutError = WebhookPublishError.timeout(url.description, after: timeout)
        let timer = channel.eventLoop.scheduleTask(deadline: deadline) {
            promise.fail(timeoutError)
            channel.close(promise: nil)
        }
        promise.futureResult.whenComplete { _ in timer.cancel() }
        channel.writeAndFlush(WebhookRequest(head: head, body: body, response: promise)).cascadeFailure(to: promise)
        let response: WebhookResponse
        do {
            response = try await withTaskCancellationHandler {
                try await promise.futureResult.get()
            } onCancel: {
                promise.fail(CancellationError())
                channel.close(promise: nil)
            }
        } catch let error as CancellationError {
            dropConnection()
            throw error
        } catch let error as WebhookPublishError {
            dropConnection()
            throw error
        } catch let error as WebhookConnectionLost where error.answerStarted {
            dropConnection()
            throw WebhookPublishError.connectionFailed(url.description, "closed in the middle of the answer")
        } catch is WebhookConnectionLost {
            dropConnection()
            throw ConnectionLostBeforeAnswer(why: "closed before an answer arrived")
        } catch {
            dropConnection()
            throw ConnectionLostBeforeAnswer(why: "\(error)")
        }
        if !response.keepAlive { dropConnection() }
        guard (200..<300).contains(Int(response.status.code)) else {
            throw WebhookPublishError.badStatus(
                Int(response.status.code), reason: response.status.reasonPhrase, body: response.bodyExcerpt, url: url.description)
        }
    }

    private func connect(deadline: NIODeadline) async throws -> any Channel {
        let remaining = deadline - NIODeadline.now()
        guard remaining > .zero else { throw WebhookPublishError.timeout(url.description, after: timeout) }
        let bootstrap = ClientBootstrap(group: group)
            .connectTimeout(remaining)
            .channelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(WebhookChannelHandler())
                }
            }
        do {
            let channel = try await bootstrap.connect(host: url.host, port: url.port).get()
            self.channel = channel
            return channel
        } catch {
            if let channelError = error as? ChannelError, case .connectTimeout = channelError {
                throw WebhookPublishError.timeout(url.description, after: timeout)
            }
            throw WebhookPublishError.connectFailed(url.description, error)
        }
    }

    private func requestHead(sequence: Int, contentLength: Int) -> HTTPRequestHead {
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: url.hostHeader)
        headers.add(name: "User-Agent", value: "playcount")
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "Content-Length", value: String(contentLength))
        headers.add(name: "Idempotency-Key", value: String(sequence))
        return HTTPRequestHead(version: .http1_1, method: .POST, uri: url.target, headers: headers)
    }

    private func dropConnection() {
        channel?.close(promise: nil)
        channel = nil
    }

    // MARK: Serialising calls

    private func acquire() async {
        if !busy {
            busy = true
            return
        }
        await withCheckedContinuation { waiters.append($0) }
    }

    private func release() {
        if waiters.isEmpty {
            busy = false
        } else {
            waiters.removeFirst().resume()
        }
    }

    /// The connection failed before any answer byte: the request may be retried on a fresh connection.
    private struct ConnectionLostBeforeAnswer: Error {
        var why: String
    }

    static func timeAmount(_ duration: Duration) -> TimeAmount {
        let (seconds, attoseconds) = duration.components
        let (nanos, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        return .nanoseconds(overflow ? .max / 2 : nanos + attoseconds / 1_000_000_000)
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

import PlayCounts
/// POSTs each publish call as JSON to an `http://` or `https://` webhook, through async-http-client.
///
/// The client owns one `HTTPClient` (HTTP/1.1, connection pool, TLS through swift-nio-ssl, redirects not
/// followed). Calls run one at a time, so they share one kept-alive connection. One attempt per
/// ``publish(_:)``: the caller retries. Headers: `Content-Type: application/json`,
/// `Idempotency-Key: <sequence>` (`p<k>-<sequence>` for a partition's owner), `User-Agent: playcount`. A non-2xx answer throws ``WebhookPublishError``
/// with its status; no complete answer within `timeout` (connecting, TLS and the body included) throws a
/// timeout. The pool drops connections the server closed while idle; if a *reused* connection turns out to be
/// dead before any answer byte arrives (the server's idle close raced the request), the request is sent once
/// more on a fresh connection — safe, since it carries the idempotency key. Cancelling the calling task ends
/// the attempt at once with `CancellationError`.
public actor WebhookPublishClient: PublishClient {
    public nonisolated let url: WebhookURL
    public nonisolated let timeout: Duration
    public nonisolated var description: String { url.description }

    private let group: any EventLoopGroup
    private let configuration: HTTPClient.Configuration
    private var http: HTTPClient
    private var isShutDown = false
    /// Whether the last answer left a kept-alive connection in the pool (then a dead one may be retried once).
    private var connectionKeptAlive = false
    /// Publish calls run one at a time (the actor alone would interleave them at suspension points).
    private var busy = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    private static let bodyExcerptLimit = 512

    /// - Parameters:
    ///   - url: `http://host[:port][/path]` or `https://host[:port][/path]`.
    ///   - timeout: the limit for one attempt, connecting, TLS and reading the answer included.
    ///   - caFile: a PEM file of the certificates to trust for `https://` instead of the system's roots (for
    ///     a self-signed or private-CA endpoint); nil trusts the system's roots.
    public init(
        url: String,
        timeout: Duration = .seconds(5),
        caFile: String? = nil,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) throws {
        self.url = try WebhookURL(url)
        self.timeout = timeout
        self.group = eventLoopGroup
        var tls = TLSConfiguration.makeClientConfiguration()
        if let caFile { tls.trustRoots = .certificates(try Self.loadCertificates(caFile)) }
        let attempt = Self.timeAmount(timeout)
        // Closing a TLS connection waits for the peer's close_notify (5 s by default); a hung server, the usual
        // reason to drop a connection, never sends it. Closing must not hold up shutdown() or a new connection.
        tls.shutdownTimeout = min(attempt, .seconds(1))
        var configuration = HTTPClient.Configuration(
            tlsConfiguration: tls,
            redirectConfiguration: .disallow,
            timeout: .init(connect: attempt),
            connectionPool: .init(idleTimeout: .seconds(60))
        )
        configuration.httpVersion = .http1Only
        // A refused connection is reported at once (the processor retries with backoff), not retried until the
        // deadline.
        configuration.connectionPool.retryConnectionEstablishment = false
        self.configuration = configuration
        self.http = HTTPClient(eventLoopGroup: eventLoopGroup, configuration: configuration)
    }

    public func publish(_ call: PublishCall) async throws {
        await acquire()
        defer { release() }
        try Task.checkCancellation()
        if isShutDown {
            http = HTTPClient(eventLoopGroup: group, configuration: configuration)
            isShutDown = false
        }
        var request = HTTPClientRequest(url: url.description)
        request.method = .POST
        request.headers.add(name: "User-Agent", value: "playcount")
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "Idempotency-Key", value: call.idempotencyKey)
        request.body = .bytes(ByteBuffer(bytes: PublishCallEncoder.encode(call)))

        let retryDeadConnection = connectionKeptAlive
        connectionKeptAlive = false
        let answer: Answer
        do {
            answer = try await Self.boundedExchange(
                request, on: http, timeout: timeout, retryDeadConnection: retryDeadConnection)
        } catch {
            throw mapped(error)
        }
        connectionKeptAlive = answer.keepAlive
        guard (200..<300).contains(Int(answer.status.code)) else {
            throw WebhookPublishError.badStatus(
                Int(answer.status.code), reason: answer.status.reasonPhrase, body: answer.bodyExcerpt,
                url: url.description)
        }
    }

    /// Shuts the `HTTPClient` down (closing its connections); a later publish starts a new one.
    public func shutdown() async {
        guard !isShutDown else { return }
        isShutDown = true
        connectionKeptAlive = false
        try? await http.shutdown()
    }

    deinit {
        // An HTTPClient must be shut down before it goes; its shutdown keeps it alive until done.
        if !isShutDown { http.shutdown().whenComplete { _ in } }
    }

    // MARK: One attempt

    /// The parts of an answer the client needs.
    private struct Answer: Sendable {
        var status: HTTPResponseStatus
        var keepAlive: Bool
        /// The start of the body (capped), for error messages.
        var bodyExcerpt: String
    }

    /// The attempt's deadline passed (raised by the timer that bounds the whole exchange).
    private struct AttemptTimedOut: Error {}
    /// The connection failed before any answer byte, also on the retry (or there was no retry).
    private struct LostBeforeAnswer: Error {
        var underlying: any Error
    }
    /// The connection failed in the middle of the answer.
    private struct LostDuringAnswer: Error {
        var underlying: any Error
    }

    /// One exchange, raced against `timeout`: async-http-client's own deadline stops at the answer's head, the
    /// race bounds the body too.
    private static func boundedExchange(
        _ request: HTTPClientRequest, on http: HTTPClient, timeout: Duration, retryDeadConnection: Bool
    ) async throws -> Answer {
        let deadline = NIODeadline.now() + timeAmount(timeout)
        let end = ContinuousClock.now + timeout
        return try await withThrowingTaskGroup(of: Answer?.self) { group in
            group.addTask {
                try await exchange(request, on: http, deadline: deadline, retryDeadConnection: retryDeadConnection)
            }
            group.addTask {
                try await Task.sleep(until: end, clock: .continuous)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let answer = first else { throw AttemptTimedOut() }
            return answer
        }
    }

    private static func exchange(
        _ request: HTTPClientRequest, on http: HTTPClient, deadline: NIODeadline, retryDeadConnection: Bool
    ) async throws -> Answer {
        var mayRetry = retryDeadConnection
        while true {
            let response: HTTPClientResponse
            do {
                response = try await http.execute(request, deadline: deadline)
            } catch where isConnectionLoss(error) {
                // Most likely the server closed the idle kept-alive connection as we wrote: retry once.
                if mayRetry, !Task.isCancelled {
                    mayRetry = false
                    continue
                }
                throw LostBeforeAnswer(underlying: error)
            }
            var excerpt: [UInt8] = []
            do {
                for try await chunk in response.body {
                    let room = bodyExcerptLimit - excerpt.count
                    if room > 0 { excerpt += chunk.readableBytesView.prefix(room) }
                }
            } catch where isConnectionLoss(error) {
                throw LostDuringAnswer(underlying: error)
            }
            return Answer(
                status: response.status, keepAlive: isKeepAlive(response),
                bodyExcerpt: String(decoding: excerpt, as: UTF8.self))
        }
    }

    private static func isKeepAlive(_ response: HTTPClientResponse) -> Bool {
        let tokens = response.headers[canonicalForm: "connection"].map { $0.lowercased() }
        if tokens.contains("close") { return false }
        let version = response.version
        return (version.major, version.minor) >= (1, 1) || tokens.contains("keep-alive")
    }

    /// Whether `error` says the connection closed or reset (rather than a timeout, TLS or protocol error).
    private static func isConnectionLoss(_ error: any Error) -> Bool {
        if let error = error as? HTTPClientError { return error == .remoteConnectionClosed }
        if let error = error as? IOError { return [ECONNRESET, EPIPE, ECONNABORTED].contains(error.errnoCode) }
        if let error = error as? ChannelError {
            return error == .ioOnClosedChannel || error == .outputClosed || error == .eof
        }
        return false
    }

    /// The error one failed attempt reports.
    private func mapped(_ error: any Error) -> any Error {
        let target = url.description
        if Task.isCancelled { return CancellationError() }
        switch error {
        case is CancellationError:
            return error
        case is AttemptTimedOut:
            return WebhookPublishError.timeout(target, after: timeout)
        case let lost as LostBeforeAnswer:
            return WebhookPublishError.connectionFailed(target, "closed before an answer arrived (\(lost.underlying))")
        case let lost as LostDuringAnswer:
            return WebhookPublishError.connectionFailed(
                target, "closed in the middle of the answer (\(lost.underlying))")
        case let error as HTTPClientError:
            switch error {
            case .deadlineExceeded, .connectTimeout, .readTimeout, .writeTimeout, .tlsHandshakeTimeout:
                return WebhookPublishError.timeout(target, after: timeout)
            case .cancelled:
                // Not the caller's cancellation (checked above), nor the timeout: shutdown() ended the attempt.
                return WebhookPublishError.connectionFailed(target, "the client was shut down during the call")
            default:
                return WebhookPublishError.connectionFailed(target, "\(error)")
            }
        case let error as NIOSSLError:
            return WebhookPublishError.tlsFailed(target, Self.explainTLS("\(error)"))
        case let error as BoringSSLError:
            return WebhookPublishError.tlsFailed(target, Self.explainTLS("\(error)"))
        case let error as NIOSSLExtraError:
            return WebhookPublishError.tlsFailed(target, Self.explainTLS("\(error)"))
        case let error as ChannelError:
            if case .connectTimeout = error { return WebhookPublishError.timeout(target, after: timeout) }
            return WebhookPublishError.connectFailed(target, error)
        case is NIOConnectionError, is IOError:
            return WebhookPublishError.connectFailed(target, error)
        default:
            return WebhookPublishError.connectionFailed(target, "\(error)")
        }
    }

    /// Says in words why a certificate was refused, keeping BoringSSL's own text.
    private static func explainTLS(_ text: String) -> String {
        if text.contains("CERTIFICATE_VERIFY_FAILED") {
            return "the server's certificate is not trusted (self-signed or from an unknown CA: give its CA "
                + "certificate as a trusted root, a PEM file): \(text)"
        }
        if text.contains("failedToValidateHostname") {
            return "the server's certificate does not name this host: \(text)"
        }
        return text
    }

    // MARK: Trusted roots

    private static func loadCertificates(_ path: String) throws(PublishClientError) -> [NIOSSLCertificate] {
        guard access(path, R_OK) == 0 else { throw .cannotReadCAFile(path, String(cString: strerror(errno))) }
        let certificates: [NIOSSLCertificate]
        do {
            certificates = try NIOSSLCertificate.fromPEMFile(path)
        } catch {
            throw .cannotReadCAFile(path, "not a PEM certificate file (\(error))")
        }
        guard !certificates.isEmpty else { throw .cannotReadCAFile(path, "it holds no PEM certificate") }
        return certificates
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

    static func timeAmount(_ duration: Duration) -> TimeAmount {
        let (seconds, attoseconds) = duration.components
        let (nanos, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        return .nanoseconds(overflow ? .max / 2 : nanos + attoseconds / 1_000_000_000)
    }
}

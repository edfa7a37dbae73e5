import PlayCounts

/// Why one webhook publish attempt failed. The processor decides whether and when to retry.
public struct WebhookPublishError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: Sendable, Hashable {
        /// The server answered with a status outside 200–299; see ``status``.
        case badStatus
        /// No complete answer within the client's timeout.
        case timeout
        /// The TCP connection could not be opened.
        case connectFailed
        /// The connection closed or failed before a complete answer arrived.
        case connectionFailed
        /// The TLS handshake failed, most often because the server's certificate is not trusted.
        case tlsFailed
    }

    public var code: Code
    /// The HTTP status code for ``Code/badStatus``, else nil.
    public var status: Int?
    public var message: String

    public var description: String { message }

    static func badStatus(_ status: Int, reason: String, body: String, url: String) -> Self {
        let excerpt = body.isEmpty ? "" : ": \(body)"
        return .init(code: .badStatus, status: status, message: "\(url) answered \(status) \(reason)\(excerpt)")
    }

    static func timeout(_ url: String, after: Duration) -> Self {
        .init(code: .timeout, status: nil, message: "\(url) did not answer within \(after)")
    }

    static func connectFailed(_ url: String, _ underlying: any Error) -> Self {
        .init(code: .connectFailed, status: nil, message: "cannot connect to \(url): \(underlying)")
    }

    static func tlsFailed(_ url: String, _ why: String) -> Self {
        .init(code: .tlsFailed, status: nil, message: "TLS with \(url) failed: \(why)")
    }

    static func connectionFailed(_ url: String, _ why: String) -> Self {
        .init(code: .connectionFailed, status: nil, message: "connection to \(url) failed: \(why)")
    }
}

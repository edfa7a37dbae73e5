#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

import PlayCounts
/// Errors from building or using a stdout/file client, or from a bad client spec.
public struct PublishClientError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: Sendable, Hashable {
        case cannotOpen
        case closed
        case invalidSpec
        case unsupportedScheme
        case invalidURL
    }

    public var code: Code
    public var message: String

    public var description: String { message }

    static func cannotOpen(path: String, errno: Int32) -> Self {
        .init(code: .cannotOpen, message: "cannot open \(path) for appending: \(String(cString: strerror(errno)))")
    }

    static func closed(_ client: String) -> Self {
        .init(code: .closed, message: "\(client) is closed")
    }

    static func invalidSpec(_ spec: String) -> Self {
        .init(
            code: .invalidSpec,
            message: "unknown client '\(spec)': use stdout, file:PATH or http://HOST[:PORT]/PATH"
        )
    }

    static func httpsUnsupported(_ url: String) -> Self {
        .init(
            code: .unsupportedScheme,
            message: "https is not supported (\(url)): the webhook client speaks plain http:// only; "
                + "put a TLS-terminating proxy on localhost in front of an https endpoint"
        )
    }

    static func invalidURL(_ url: String, _ why: String) -> Self {
        .init(code: .invalidURL, message: "invalid webhook URL '\(url)': \(why)")
    }
}

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
        /// The trusted-root file for an https webhook is unreadable or holds no PEM certificate.
        case invalidCAFile
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
            message: "unknown client '\(spec)': use stdout, file:PATH, http://HOST[:PORT]/PATH "
                + "or https://HOST[:PORT]/PATH"
        )
    }

    static func unsupportedScheme(_ url: String, _ scheme: String) -> Self {
        .init(
            code: .unsupportedScheme,
            message: "unsupported scheme '\(scheme)' in \(url): the webhook client speaks http:// and https://"
        )
    }

    static func cannotReadCAFile(_ path: String, _ why: String) -> Self {
        .init(code: .invalidCAFile, message: "cannot use \(path) as the webhook's trusted CA: \(why)")
    }

    static func invalidURL(_ url: String, _ why: String) -> Self {
        .init(code: .invalidURL, message: "invalid webhook URL '\(url)': \(why)")
    }
}

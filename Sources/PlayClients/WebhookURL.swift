import PlayCounts

/// A parsed `http[s]://host[:port][/path][?query]` webhook address.
public struct WebhookURL: Sendable, Hashable, CustomStringConvertible {
    /// `http` or `https` (lower case).
    public var scheme: String
    /// Host name or IP literal as given (IPv6 without brackets).
    public var host: String
    /// The port given, else the scheme's default (80 for http, 443 for https).
    public var port: Int
    /// The request target: path plus query, `/` when the URL had none.
    public var target: String

    /// Whether the webhook is reached over TLS (`https://`).
    public var usesTLS: Bool { scheme == "https" }

    /// Parses `text`; a scheme other than http and https gets an explanatory error.
    public init(_ text: String) throws(PublishClientError) {
        let lowered = text.lowercased()
        let scheme: String
        if lowered.hasPrefix("http://") {
            scheme = "http"
        } else if lowered.hasPrefix("https://") {
            scheme = "https"
        } else if let separator = lowered.firstRange(of: "://") {
            throw .unsupportedScheme(text, String(lowered[..<separator.lowerBound]))
        } else {
            throw .invalidURL(text, "it must start with http:// or https://")
        }
        let defaultPort = scheme == "https" ? 443 : 80
        let rest = text.dropFirst(scheme.count + "://".count)
        let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        var target = String(rest[authorityEnd...])
        if let fragment = target.firstIndex(of: "#") { target = String(target[..<fragment]) }
        if target.isEmpty || target.first == "?" { target = "/" + target }
        guard !authority.contains("@") else { throw .invalidURL(text, "user information is not supported") }
        var host: Substring
        var portText: Substring?
        if authority.first == "[" {
            guard let close = authority.firstIndex(of: "]") else { throw .invalidURL(text, "unterminated IPv6 literal") }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.first == ":" else { throw .invalidURL(text, "unexpected text after the IPv6 literal") }
                portText = after.dropFirst()
            }
        } else if let colon = authority.lastIndex(of: ":") {
            host = authority[..<colon]
            portText = authority[authority.index(after: colon)...]
        } else {
            host = authority
        }
        guard !host.isEmpty else { throw .invalidURL(text, "the host is missing") }
        var port = defaultPort
        if let portText {
            guard let value = Int(portText), (1...65_535).contains(value) else {
                throw .invalidURL(text, "the port must be a number from 1 to 65535")
            }
            port = value
        }
        guard target.allSatisfy({ $0.isASCII && !$0.isWhitespace }) else {
            throw .invalidURL(text, "the path must be ASCII without spaces (percent-encode it)")
        }
        self.scheme = scheme
        self.host = String(host)
        self.port = port
        self.target = target
    }

    /// The `Host` header value: the port only when it is not the scheme's default.
    public var hostHeader: String {
        let name = host.contains(":") ? "[\(host)]" : host
        return port == (usesTLS ? 443 : 80) ? name : "\(name):\(port)"
    }

    public var description: String { "\(scheme)://\(hostHeader)\(target)" }
}

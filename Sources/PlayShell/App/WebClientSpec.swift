import NSQ
import ShellKit

/// `client web` (the page at 127.0.0.1:8080) or `client web:HOST:PORT`.
enum WebClientSpec {
    static let defaultAddress = NSQAddress(host: "127.0.0.1", port: 8080)
    static let usage = "web takes no address (127.0.0.1:8080) or web:HOST:PORT"

    /// The page's address when `spec` names the web client; nil for any other client.
    static func address(_ spec: String) throws -> NSQAddress? {
        let trimmed = spec.trimmingCharacters(in: .whitespaces)
        if trimmed == "web" { return defaultAddress }
        guard trimmed.hasPrefix("web:") else { return nil }
        guard let address = NSQAddress(String(trimmed.dropFirst("web:".count))) else { throw ShellError(usage) }
        return address
    }
}

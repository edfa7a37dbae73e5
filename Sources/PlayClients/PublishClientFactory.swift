import PlayCounts

/// Builds a client from the spec the shell and command line accept.
public enum PublishClientFactory {
    /// `stdout` → ``StdoutPublishClient``; `file:PATH` → ``FilePublishClient``;
    /// `http://HOST[:PORT][/PATH]` or `https://HOST[:PORT][/PATH]` → ``WebhookPublishClient`` (with
    /// `webhookTimeout`; for https, `webhookCAFile` names a PEM file of the certificates to trust instead of
    /// the system's roots). Anything else throws a ``PublishClientError`` that says what is accepted.
    public static func make(
        spec: String, webhookTimeout: Duration = .seconds(5), webhookCAFile: String? = nil
    ) throws -> any PublishClient {
        var trimmed = Substring(spec)
        while trimmed.first?.isWhitespace == true { trimmed.removeFirst() }
        while trimmed.last?.isWhitespace == true { trimmed.removeLast() }
        let lowered = trimmed.lowercased()
        if lowered == "stdout" || lowered == "-" { return StdoutPublishClient() }
        if lowered.hasPrefix("file:") {
            let path = String(trimmed.dropFirst("file:".count))
            guard !path.isEmpty else { throw PublishClientError(code: .invalidSpec, message: "file: needs a path, e.g. file:/tmp/publishes.jsonl") }
            return try FilePublishClient(path: path)
        }
        if lowered.hasPrefix("http://") || lowered.hasPrefix("https://") {
            return try WebhookPublishClient(url: String(trimmed), timeout: webhookTimeout, caFile: webhookCAFile)
        }
        throw PublishClientError.invalidSpec(spec)
    }
}

import NIOCore
import NSQBroker
import Locking

/// The in-process nsqd-compatible broker: started by `broker start`, or on demand by the first command that
/// needs NSQ when no `nsqd-tcp-address` or `lookupd-http-address` is set.
public final class EmbeddedBroker: Sendable {
    private let broker = Locked<NSQBroker?>(nil)

    public init() {}

    /// The running broker, if any.
    public var running: NSQBroker? { broker.current }

    /// Starts a broker on `host`, `tcpPort` and `httpPort` (0 picks free ports) unless one runs already.
    @discardableResult
    public func start(host: String = "127.0.0.1", tcpPort: Int = 0, httpPort: Int = 0) async throws -> NSQBroker {
        if let existing = running { return existing }
        let candidate = NSQBroker(configuration: NSQBrokerConfiguration(host: host, tcpPort: tcpPort, httpPort: httpPort))
        try await candidate.start()
        let winner = broker.withLock { current -> NSQBroker? in
            if let current { return current }
            current = candidate
            return nil
        }
        if let winner {
            try? await candidate.stop()
            return winner
        }
        return candidate
    }

    /// Stops the broker (its queues are in memory and are lost).
    public func stop() async throws {
        guard let running = broker.withLock({ current -> NSQBroker? in
            defer { current = nil }
            return current
        }) else { return }
        try await running.stop()
    }
}

extension NSQBroker {
    /// `127.0.0.1:PORT` of the TCP listener.
    public var tcpAddressText: String { "\(configuration.host):\(tcpPort ?? 0)" }
    /// `127.0.0.1:PORT` of the HTTP listener (nsqd's API and the lookupd endpoints).
    public var httpAddressText: String { "\(configuration.host):\(httpPort ?? 0)" }
}

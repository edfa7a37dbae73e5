/// What a consumer connection is for (see ``NSQConsumerConfiguration/CatchUp``).
public enum NSQConnectionRole: String, Sendable, Hashable, CaseIterable {
    /// Holds the RDY window while messages arrive as nsqd stamps them (the only connection without catch-up).
    case live
    /// The buffered connection that holds the RDY window while the consumer is behind.
    case catchUp = "catch-up"
}

/// A snapshot of one nsqd connection of a consumer.
public struct NSQConnectionStatus: Sendable, Hashable {
    public enum State: String, Sendable, Hashable, CaseIterable {
        case connecting, identifying, subscribing, subscribed, closing, closed
        /// Dropped; waiting for the backoff before connecting again.
        case backingOff = "backing-off"
        case stopped
    }

    public var address: String
    public var role: NSQConnectionRole
    public var state: State
    /// The RDY count last sent on the current connection.
    public var ready: Int
    /// Messages delivered and not yet finished or requeued on the current connection.
    public var inFlight: Int
    /// Totals over the consumer's lifetime, across reconnects.
    public var received: Int
    public var finished: Int
    public var requeued: Int
    /// Messages handed to the give-up hook (then finished).
    public var gaveUp: Int
    /// Heartbeats received (and answered with NOP).
    public var heartbeats: Int
    /// TOUCHes sent to keep held messages from timing out (see ``NSQConsumerConfiguration/touchesHeldMessages``).
    public var touched: Int
    /// Connections made after the first one.
    public var reconnects: Int
    /// The last error that dropped the connection, if any.
    public var lastError: String?

    public init(address: String, role: NSQConnectionRole = .live) {
        self.address = address
        self.role = role
        self.state = .connecting
        self.ready = 0
        self.inFlight = 0
        self.received = 0
        self.finished = 0
        self.requeued = 0
        self.gaveUp = 0
        self.heartbeats = 0
        self.touched = 0
        self.reconnects = 0
        self.lastError = nil
    }
}

/// A snapshot of a whole consumer: its connections and their sums.
public struct NSQConsumerStatus: Sendable, Hashable {
    public var connections: [NSQConnectionStatus]

    public init(connections: [NSQConnectionStatus]) { self.connections = connections }

    public var received: Int { connections.reduce(0) { $0 + $1.received } }
    public var finished: Int { connections.reduce(0) { $0 + $1.finished } }
    public var requeued: Int { connections.reduce(0) { $0 + $1.requeued } }
    public var gaveUp: Int { connections.reduce(0) { $0 + $1.gaveUp } }
    public var inFlight: Int { connections.reduce(0) { $0 + $1.inFlight } }
    public var ready: Int { connections.reduce(0) { $0 + $1.ready } }
    public var reconnects: Int { connections.reduce(0) { $0 + $1.reconnects } }
    /// Connections currently receiving.
    public var subscribedCount: Int { connections.filter { $0.state == .subscribed }.count }
}

/// A snapshot of the broker's topics, channels and clients (what nsqd's `/stats` reports).
public struct NSQBrokerStats: Sendable, Equatable {
    public struct Client: Sendable, Equatable {
        public var clientID: String
        public var hostname: String
        public var userAgent: String
        /// `ip:port` of the client's connection.
        public var remoteAddress: String
        /// nsqd's client state: 0 init, 3 subscribed, 4 closing.
        public var state: Int32
        public var readyCount: Int64
        public var inFlightCount: Int64
        public var messageCount: UInt64
        public var finishCount: UInt64
        public var requeueCount: UInt64
        /// Seconds since the epoch.
        public var connectTime: Int64
        public var sampleRate: Int32
    }

    public struct Channel: Sendable, Equatable {
        public var name: String
        /// Messages waiting to be delivered.
        public var depth: Int
        public var inFlightCount: Int
        public var deferredCount: Int
        public var messageCount: UInt64
        public var requeueCount: UInt64
        public var timeoutCount: UInt64
        public var clients: [Client]
    }

    public struct Topic: Sendable, Equatable {
        public var name: String
        /// Messages waiting in the topic itself (it has no channel yet).
        public var depth: Int
        public var messageCount: UInt64
        public var messageBytes: UInt64
        public var channels: [Channel]
    }

    public var topics: [Topic]
    /// Clients that published but never subscribed.
    public var producers: [Client]
    /// Seconds since the epoch.
    public var startTime: Int64

    /// The topic named `name`, if it exists.
    public func topic(_ name: String) -> Topic? { topics.first { $0.name == name } }
}

extension NSQBrokerStats.Topic {
    /// The channel named `name`, if it exists.
    public func channel(_ name: String) -> NSQBrokerStats.Channel? { channels.first { $0.name == name } }
}

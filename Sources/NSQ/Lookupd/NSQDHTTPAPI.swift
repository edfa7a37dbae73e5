import Foundation
import NIOCore
import NIOPosix

/// How many messages a channel holds on one nsqd, from its HTTP API (`GET /stats?format=json`).
public struct NSQChannelBacklog: Sendable, Hashable {
    /// Messages waiting: in the channel, plus in the topic while the channel does not exist yet.
    public var depth: Int
    public var inFlight: Int
    public var deferred: Int

    public init(depth: Int = 0, inFlight: Int = 0, deferred: Int = 0) {
        self.depth = depth
        self.inFlight = inFlight
        self.deferred = deferred
    }
}

/// A client subscribed to a channel, as nsqd's `/stats` lists it.
public struct NSQChannelClient: Sendable, Hashable, CustomStringConvertible {
    public var clientID: String
    public var hostname: String
    public var remoteAddress: String
    public var userAgent: String

    public init(clientID: String, hostname: String, remoteAddress: String, userAgent: String) {
        self.clientID = clientID
        self.hostname = hostname
        self.remoteAddress = remoteAddress
        self.userAgent = userAgent
    }

    /// `playcount/1.0 "web-1" (host web-1) from 10.0.0.5:53211`.
    public var description: String {
        let agent = userAgent.isEmpty ? "a client" : userAgent
        let host = hostname.isEmpty || hostname == clientID ? "" : " (host \(hostname))"
        return "\(agent) \"\(clientID)\"\(host) from \(remoteAddress)"
    }
}

/// What nsqd's `/stats?format=json` says of its topics, channels and their clients (the fields tools read).
public struct NSQDStats: Sendable, Hashable {
    public struct Channel: Sendable, Hashable {
        public var name: String
        public var depth: Int
        public var inFlight: Int
        public var deferred: Int
        public var clients: [NSQChannelClient]
    }

    public struct Topic: Sendable, Hashable {
        public var name: String
        /// Messages in the topic itself: held there while it has no channel.
        public var depth: Int
        public var channels: [Channel]
    }

    public var topics: [Topic]

    init(json body: ByteBuffer) throws {
        struct Reply: Decodable {
            struct Client: Decodable {
                var client_id: String
                var hostname: String
                var remote_address: String
                var user_agent: String?
            }
            struct Channel: Decodable {
                var channel_name: String
                var depth: Int
                var in_flight_count: Int
                var deferred_count: Int
                var clients: [Client]?
            }
            struct Topic: Decodable {
                var topic_name: String
                var depth: Int
                var channels: [Channel]?
            }
            var topics: [Topic]?
        }
        guard let reply = try? JSONDecoder().decode(Reply.self, from: Data(body.readableBytesView)) else {
            throw NSQClientError.lookupFailed("unreadable /stats reply")
        }
        topics = (reply.topics ?? []).map { topic in
            Topic(name: topic.topic_name, depth: topic.depth, channels: (topic.channels ?? []).map { channel in
                Channel(
                    name: channel.channel_name, depth: channel.depth, inFlight: channel.in_flight_count,
                    deferred: channel.deferred_count, clients: (channel.clients ?? []).map {
                        NSQChannelClient(
                            clientID: $0.client_id, hostname: $0.hostname, remoteAddress: $0.remote_address,
                            userAgent: $0.user_agent ?? "")
                    })
            })
        }
    }
}

/// The parts of nsqd's and nsqlookupd's HTTP APIs that tools read (queue depth, where nsqd's HTTP API is).
public enum NSQDHTTPAPI {
    /// The backlog of `topic`/`channel` on the nsqd whose HTTP API is at `address` (`HOST:PORT`).
    public static func backlog(
        topic: String, channel: String, nsqdHTTPAddress address: String, timeout: Duration = .seconds(5),
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> NSQChannelBacklog {
        guard let parsed = NSQAddress(address) else {
            throw NSQClientError.invalidConfiguration("'\(address)' is not HOST:PORT")
        }
        let query = "topic=\(percentEncoded(topic))&channel=\(percentEncoded(channel))"
        let (status, body) = try await LookupdClient(eventLoopGroup: eventLoopGroup, timeout: timeout)
            .get(path: "/stats?format=json&\(query)", from: parsed)
        guard status == .ok else { throw NSQClientError.lookupFailed("\(address) /stats answered \(status.code)") }
        return try parseBacklog(body, topic: topic, channel: channel)
    }

    /// The clients subscribed to `topic`/`channel` on the nsqd whose HTTP API is at `address`; empty when the
    /// topic or the channel does not exist there.
    public static func channelClients(
        topic: String, channel: String, nsqdHTTPAddress address: String, timeout: Duration = .seconds(5),
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> [NSQChannelClient] {
        guard let parsed = NSQAddress(address) else {
            throw NSQClientError.invalidConfiguration("'\(address)' is not HOST:PORT")
        }
        let query = "topic=\(percentEncoded(topic))&channel=\(percentEncoded(channel))&include_clients=true"
        let (status, body) = try await LookupdClient(eventLoopGroup: eventLoopGroup, timeout: timeout)
            .get(path: "/stats?format=json&\(query)", from: parsed)
        guard status == .ok else { throw NSQClientError.lookupFailed("\(address) /stats answered \(status.code)") }
        return try parseChannelClients(body, topic: topic, channel: channel)
    }

    /// The HTTP addresses (`broadcast_address:http_port`) of the nsqd instances lookupd lists for `topic`.
    public static func producerHTTPAddresses(
        topic: String, lookupdHTTPAddress lookupd: String, timeout: Duration = .seconds(5),
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> [String] {
        guard let parsed = NSQAddress(lookupd) else {
            throw NSQClientError.invalidConfiguration("'\(lookupd)' is not HOST:PORT")
        }
        let (status, body) = try await LookupdClient(eventLoopGroup: eventLoopGroup, timeout: timeout)
            .get(path: "/lookup?topic=\(percentEncoded(topic))", from: parsed)
        if status == .notFound { return [] }
        guard status == .ok else { throw NSQClientError.lookupFailed("\(lookupd) answered \(status.code)") }
        struct Reply: Decodable {
            struct Producer: Decodable {
                var broadcast_address: String
                var http_port: Int
            }
            var producers: [Producer]
        }
        guard let reply = try? JSONDecoder().decode(Reply.self, from: Data(body.readableBytesView)) else {
            throw NSQClientError.lookupFailed("unreadable /lookup reply")
        }
        return reply.producers.map { NSQAddress(host: $0.broadcast_address, port: $0.http_port).description }
    }

    static func parseBacklog(_ body: ByteBuffer, topic: String, channel: String) throws -> NSQChannelBacklog {
        let stats = try NSQDStats(json: body)
        guard let topicStats = stats.topics.first(where: { $0.name == topic }) else { return NSQChannelBacklog() }
        guard let channelStats = topicStats.channels.first(where: { $0.name == channel }) else {
            return NSQChannelBacklog(depth: topicStats.depth)
        }
        return NSQChannelBacklog(
            depth: topicStats.depth + channelStats.depth, inFlight: channelStats.inFlight,
            deferred: channelStats.deferred)
    }

    static func parseChannelClients(_ body: ByteBuffer, topic: String, channel: String) throws -> [NSQChannelClient] {
        let stats = try NSQDStats(json: body)
        return stats.topics.first { $0.name == topic }?.channels.first { $0.name == channel }?.clients ?? []
    }

    /// Every topic, channel and client of the nsqd whose HTTP API is at `address` (`GET /stats?format=json`).
    public static func stats(
        nsqdHTTPAddress address: String, timeout: Duration = .seconds(5),
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> NSQDStats {
        guard let parsed = NSQAddress(address) else {
            throw NSQClientError.invalidConfiguration("'\(address)' is not HOST:PORT")
        }
        let (status, body) = try await LookupdClient(eventLoopGroup: eventLoopGroup, timeout: timeout)
            .get(path: "/stats?format=json&include_clients=true", from: parsed)
        guard status == .ok else { throw NSQClientError.lookupFailed("\(address) /stats answered \(status.code)") }
        return try NSQDStats(json: body)
    }

    private static func percentEncoded(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? text
    }
}

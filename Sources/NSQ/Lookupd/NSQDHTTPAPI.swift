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
        struct Stats: Decodable {
            struct Channel: Decodable {
                var channel_name: String
                var depth: Int
                var in_flight_count: Int
                var deferred_count: Int
            }
            struct Topic: Decodable {
                var topic_name: String
                var depth: Int
                var channels: [Channel]
            }
            var topics: [Topic]?
        }
        guard let stats = try? JSONDecoder().decode(Stats.self, from: Data(body.readableBytesView)) else {
            throw NSQClientError.lookupFailed("unreadable /stats reply")
        }
        guard let topicStats = stats.topics?.first(where: { $0.topic_name == topic }) else { return NSQChannelBacklog() }
        guard let channelStats = topicStats.channels.first(where: { $0.channel_name == channel }) else {
            return NSQChannelBacklog(depth: topicStats.depth)
        }
        return NSQChannelBacklog(
            depth: topicStats.depth + channelStats.depth, inFlight: channelStats.in_flight_count,
            deferred: channelStats.deferred_count)
    }

    private static func percentEncoded(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? text
    }
}

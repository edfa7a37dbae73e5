import NIOCore
import NIOPosix

/// Public entry to nsqlookupd's discovery API, for tools that publish (a producer must pick an nsqd).
public enum NSQLookupd {
    /// The nsqd TCP addresses (`broadcast_address:tcp_port`) that have `topic`, asking `lookupd`
    /// (`HOST:PORT` of its HTTP API). Empty when lookupd does not know the topic.
    public static func producers(
        topic: String, lookupd: String, timeout: Duration = .seconds(5),
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> [String] {
        guard let address = NSQAddress(lookupd) else {
            throw NSQClientError.invalidConfiguration("'\(lookupd)' is not HOST:PORT")
        }
        return try await LookupdClient(eventLoopGroup: eventLoopGroup, timeout: timeout)
            .lookup(topic: topic, lookupd: address)
    }
}

import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// Asks nsqlookupd which nsqd nodes have a topic (`GET /lookup?topic=`), over a tiny HTTP/1.1 client.
struct LookupdClient: Sendable {
    let eventLoopGroup: any EventLoopGroup
    let timeout: Duration

    /// The nsqd TCP addresses (`broadcast_address:tcp_port`) producing `topic`; empty for 404 TOPIC_NOT_FOUND.
    func lookup(topic: String, lookupd: NSQAddress) async throws -> [String] {
        let (status, body) = try await get(path: "/lookup?topic=\(topic.replacingOccurrences(of: "#", with: "%23"))", from: lookupd)
        if status == .notFound { return [] }
        guard status == .ok else { throw NSQClientError.lookupFailed("\(lookupd) answered \(status.code)") }
        return try Self.parseProducers(body)
    }

    /// Reads `producers[].broadcast_address` and `tcp_port` from a /lookup reply.
    static func parseProducers(_ body: ByteBuffer) throws -> [String] {
        struct Reply: Decodable {
            struct Producer: Decodable {
                var broadcast_address: String
                var tcp_port: Int
            }
            var producers: [Producer]
        }
        do {
            let reply = try JSONDecoder().decode(Reply.self, from: Data(body.readableBytesView))
            return reply.producers.map { NSQAddress(host: $0.broadcast_address, port: $0.tcp_port).description }
        } catch {
            throw NSQClientError.lookupFailed("unreadable /lookup reply")
        }
    }

    func get(path: String, from address: NSQAddress) async throws -> (HTTPResponseStatus, ByteBuffer) {
        let promise = eventLoopGroup.any().makePromise(of: (HTTPResponseStatus, ByteBuffer).self)
        let channel = try await ClientBootstrap(group: eventLoopGroup)
            .connectTimeout(.milliseconds(timeout.milliseconds))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(ResponseCollector(promise: promise))
                }
            }
            .connect(host: address.host, port: address.port).get()
        var head = HTTPRequestHead(version: .http1_1, method: .GET, uri: path)
        head.headers.add(name: "Host", value: address.description)
        head.headers.add(name: "Connection", value: "close")
        head.headers.add(name: "Accept", value: "application/json")
        channel.write(HTTPClientRequestPart.head(head), promise: nil)
        channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
        let timeoutTask = channel.eventLoop.scheduleTask(in: .milliseconds(timeout.milliseconds)) {
            promise.fail(NSQClientError.lookupFailed("\(address) timed out"))
            channel.close(promise: nil)
        }
        defer { timeoutTask.cancel(); channel.close(promise: nil) }
        return try await promise.futureResult.get()
    }
}

/// Collects one HTTP response into a status and body.
private final class ResponseCollector: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart

    private let promise: EventLoopPromise<(HTTPResponseStatus, ByteBuffer)>
    private var status: HTTPResponseStatus = .ok
    private var body = ByteBuffer()

    init(promise: EventLoopPromise<(HTTPResponseStatus, ByteBuffer)>) { self.promise = promise }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            status = head.status
        case .body(var chunk):
            if body.readableBytes + chunk.readableBytes <= 4 * 1024 * 1024 { body.writeBuffer(&chunk) }
        case .end:
            promise.succeed((status, body))
            context.close(promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        promise.fail(error)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        promise.fail(NSQClientError.connectionClosed)
    }
}

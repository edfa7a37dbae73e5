import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// A loopback HTTP/1.1 server (plain, or HTTPS with a given certificate) for webhook client tests: records
/// every request and answers as told.
final class ClientTestHTTPServer: Sendable {
    enum Answer: Sendable {
        case status(Int)
        /// Read the request and never answer.
        case silence
        /// Answer with this status and `Connection: close`, then close.
        case statusThenClose(Int)
        /// Read the request, then close the connection without answering.
        case closeWithoutAnswer
    }

    struct Request: Sendable {
        var method: HTTPMethod
        var uri: String
        var headers: HTTPHeaders
        var body: [UInt8]
        /// Which accepted connection (1, 2, …) carried it.
        var connection: Int
    }

    private struct State {
        var answer: Answer = .status(200)
        var requests: [Request] = []
        var connections: [any Channel] = []
    }

    private let state = NIOLockedValueBox(State())
    private let serverChannel: any Channel
    let port: Int

    private let scheme: String

    /// Binds 127.0.0.1 on `port` (0 = any free port); with `tls` it serves HTTPS.
    init(port: Int = 0, tls: NIOSSLContext? = nil) async throws {
        let state = self.state
        scheme = tls == nil ? "http" : "https"
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                let number = state.withLockedValue { state -> Int in
                    state.connections.append(channel)
                    return state.connections.count
                }
                return channel.eventLoop.makeCompletedFuture {
                    if let tls { try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls)) }
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(Handler(state: state, connection: number))
                }
            }
        serverChannel = try await bootstrap.bind(host: "127.0.0.1", port: port).get()
        self.port = serverChannel.localAddress?.port ?? 0
    }

    var url: String { "\(scheme)://127.0.0.1:\(port)/hooks/counts" }

    /// The checked-in self-signed test certificate (CN and SAN 127.0.0.1/localhost, valid for 100 years).
    static let certificatePath = resourcePath("webhook-test-cert.pem")
    static let keyPath = resourcePath("webhook-test-key.pem")

    /// A server TLS context with the test certificate and key.
    static func testTLSContext() throws -> NIOSSLContext {
        let configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMFile(certificatePath).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: keyPath, format: .pem)))
        return try NIOSSLContext(configuration: configuration)
    }

    private static func resourcePath(_ name: String, file: StaticString = #filePath) -> String {
        var directory = "\(file)"
        while let last = directory.last, last != "/" { directory.removeLast() }
        return directory + "Resources/" + name
    }

    func answer(_ answer: Answer) {
        state.withLockedValue { $0.answer = answer }
    }

    var requests: [Request] { state.withLockedValue { $0.requests } }
    var connectionCount: Int { state.withLockedValue { $0.connections.count } }

    /// Stops listening and closes every accepted connection.
    func stop() async {
        try? await serverChannel.close()
        let connections = state.withLockedValue { $0.connections }
        for connection in connections { try? await connection.close() }
    }

    private final class Handler: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart

        let state: NIOLockedValueBox<State>
        let connection: Int
        var head: HTTPRequestHead?
        var body: [UInt8] = []

        init(state: NIOLockedValueBox<State>, connection: Int) {
            self.state = state
            self.connection = connection
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let requestHead):
                head = requestHead
                body = []
            case .body(var chunk):
                body += chunk.readBytes(length: chunk.readableBytes) ?? []
            case .end:
                guard let head else { return }
                let request = Request(method: head.method, uri: head.uri, headers: head.headers, body: body, connection: connection)
                let answer = state.withLockedValue { state -> Answer in
                    state.requests.append(request)
                    return state.answer
                }
                switch answer {
                case .silence:
                    return
                case .status(let code):
                    respond(context: context, status: code, close: false)
                case .statusThenClose(let code):
                    respond(context: context, status: code, close: true)
                case .closeWithoutAnswer:
                    context.close(promise: nil)
                }
            }
        }

        private func respond(context: ChannelHandlerContext, status: Int, close: Bool) {
            let text = "answer \(status)"
            var headers = HTTPHeaders()
            headers.add(name: "Content-Length", value: String(text.utf8.count))
            if close { headers.add(name: "Connection", value: "close") }
            let responseHead = HTTPResponseHead(version: .http1_1, status: HTTPResponseStatus(statusCode: status), headers: headers)
            context.write(wrapOutboundOut(.head(responseHead)), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: text)))), promise: nil)
            let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
            if close {
                let channel = context.channel
                done.whenComplete { _ in channel.close(promise: nil) }
            }
        }
    }
}

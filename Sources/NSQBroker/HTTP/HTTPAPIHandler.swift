import NIOCore
import NIOHTTP1
import NSQ

/// nsqd's HTTP API (`http.go`) plus nsqlookupd's read endpoints, answering for this broker.
///
/// nsqd: `GET /ping`, `GET /info`, `GET /stats`, `POST /pub`, `POST /mpub`, `POST /topic/create|delete|empty`,
/// `POST /channel/create|delete|empty`. nsqlookupd: `GET /lookup?topic=`, `GET /nodes`, `GET /topics`,
/// `GET /channels?topic=`. Error bodies are `{"message":"CODE"}` with nsqd's status and code.
final class HTTPAPIHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let core: BrokerCore
    private var head: HTTPRequestHead?
    private var body: ByteBuffer?
    private var bodyTooLarge = false

    init(core: BrokerCore) {
        self.core = core
    }

    /// The most body bytes kept: one more than any endpoint accepts, to detect "too big".
    private var bodyLimit: Int { Int(max(core.configuration.maxBodySize, core.configuration.maxMsgSize)) + 1 }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let requestHead):
            head = requestHead
            body = context.channel.allocator.buffer(capacity: 0)
            bodyTooLarge = false
        case .body(var part):
            guard !bodyTooLarge else { return }
            if (body?.readableBytes ?? 0) + part.readableBytes > bodyLimit {
                bodyTooLarge = true
                body = nil
            } else {
                body?.writeBuffer(&part)
            }
        case .end:
            guard let requestHead = head else { return }
            head = nil
            let response = respond(to: requestHead, body: body ?? ByteBuffer())
            body = nil
            write(response, keepAlive: requestHead.isKeepAlive, context: context)
        }
    }

    private func write(_ response: HTTPAPIResponse, keepAlive: Bool, context: ChannelHandlerContext) {
        let head = HTTPResponseHead(version: .http1_1, status: response.status, headers: response.headers())
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        if !response.body.isEmpty {
            context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: response.body)))), promise: nil)
        }
        let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !keepAlive {
            let channel = context.channel
            done.whenComplete { _ in channel.close(promise: nil) }
        }
    }

    // MARK: Routing

    private func respond(to head: HTTPRequestHead, body: ByteBuffer) -> HTTPAPIResponse {
        let uri = head.uri
        let path = uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
        let rawQuery = uri.firstIndex(of: "?").map { uri[uri.index(after: $0)...] } ?? ""
        let method = head.method

        let get: [String: (Query) -> HTTPAPIResponse] = [
            "/ping": { _ in HTTPAPIResponse(status: .ok, style: .plainText, body: "OK") },
            "/info": { _ in self.info() },
            "/stats": { self.stats($0) },
            "/lookup": { self.lookup($0) },
            "/nodes": { _ in self.nodes() },
            "/topics": { _ in .json("{\"topics\":\(GoJSON.stringArray(self.core.topics.keys.sorted()))}") },
            "/channels": { self.channels($0) },
        ]
        let post: [String: (Query, ByteBuffer) -> HTTPAPIResponse] = [
            "/pub": { self.pub($0, $1) },
            "/mpub": { self.mpub($0, $1) },
            "/topic/create": { query, _ in self.createTopic(query) },
            "/topic/delete": { query, _ in self.topicAction(query) { self.core.deleteTopic(named: $0.name) } },
            "/topic/empty": { query, _ in self.topicAction(query) { $0.empty() } },
            "/channel/create": { query, _ in self.channelAction(query, create: true) { _, _ in } },
            "/channel/delete": { query, _ in self.channelAction(query, create: false) { topic, channel in topic.deleteChannel(named: channel.name) } },
            "/channel/empty": { query, _ in self.channelAction(query, create: false) { _, channel in channel.empty() } },
        ]

        if let handler = get[path] {
            guard method == .GET || (method == .HEAD && path == "/ping") else {
                return .error(.methodNotAllowed, "METHOD_NOT_ALLOWED")
            }
            return handler(Query(raw: rawQuery))
        }
        if let handler = post[path] {
            guard method == .POST else { return .error(.methodNotAllowed, "METHOD_NOT_ALLOWED") }
            if bodyTooLarge { return .error(.payloadTooLarge, path == "/pub" ? "MSG_TOO_BIG" : "TOO_BIG") }
            return handler(Query(raw: rawQuery), body)
        }
        return .error(.notFound, "NOT_FOUND")
    }

    /// Parsed query parameters; `values` is nil when the query is malformed (nsqd: 400 INVALID_REQUEST).
    struct Query {
        var values: [String: [String]]?
        init(raw: Substring) { values = GoQuery.parse(raw) }
        func first(_ key: String) -> String? { values?[key]?.first }
    }

    // MARK: nsqd endpoints

    private func info() -> HTTPAPIResponse {
        let configuration = core.configuration
        return .json("{\"version\":\"\(NSQProtocol.version)\",\"broadcast_address\":\(GoJSON.string(configuration.resolvedBroadcastAddress)),"
            + "\"hostname\":\(GoJSON.string(configuration.hostname)),\"http_port\":\(core.httpPort),\"tcp_port\":\(core.tcpPort),"
            + "\"start_time\":\(core.startTime),\"max_heartbeat_interval\":\(configuration.maxHeartbeatInterval.nanoseconds),"
            + "\"max_output_buffer_size\":\(configuration.maxOutputBufferSize),"
            + "\"max_output_buffer_timeout\":\(configuration.maxOutputBufferTimeout.nanoseconds),\"max_deflate_level\":6}")
    }

    private func stats(_ query: Query) -> HTTPAPIResponse {
        guard query.values != nil else { return .error(.badRequest, "INVALID_REQUEST") }
        let stats = core.stats(topicFilter: query.first("topic"), channelFilter: query.first("channel"))
        if query.first("format") == "json" {
            let includeClients = query.first("include_clients").map { $0 == "true" || $0 == "1" } ?? true
            return .json(StatsRendering.json(stats, includeClients: includeClients))
        }
        return .ok(StatsRendering.text(stats))
    }

    /// nsqd's `getTopicFromQuery`: the topic name, or the error response.
    private func topicName(_ query: Query) -> Result<String, HTTPAPIError> {
        guard let values = query.values else { return .failure(.init(.badRequest, "INVALID_REQUEST")) }
        guard let name = values["topic"]?.first else { return .failure(.init(.badRequest, "MISSING_ARG_TOPIC")) }
        guard NSQProtocol.isValidName(name) else { return .failure(.init(.badRequest, "INVALID_TOPIC")) }
        return .success(name)
    }

    private func pub(_ query: Query, _ body: ByteBuffer) -> HTTPAPIResponse {
        let configuration = core.configuration
        if Int64(body.readableBytes) > configuration.maxMsgSize { return .error(.payloadTooLarge, "MSG_TOO_BIG") }
        if body.readableBytes == 0 { return .error(.badRequest, "MSG_EMPTY") }
        let topic: String
        switch topicName(query) {
        case .failure(let error): return error.response
        case .success(let name): topic = name
        }
        var delay = TimeAmount.zero
        if let deferText = query.first("defer") {
            guard let milliseconds = Int64(deferText), milliseconds >= 0,
                  milliseconds <= configuration.maxReqTimeout.nanoseconds / 1_000_000 else {
                _ = core.topic(named: topic)
                return .error(.badRequest, "INVALID_DEFER")
            }
            delay = .milliseconds(milliseconds)
        }
        core.publish(topic: topic, bodies: [body], delay: delay)
        return .ok()
    }

    private func mpub(_ query: Query, _ body: ByteBuffer) -> HTTPAPIResponse {
        let configuration = core.configuration
        if Int64(body.readableBytes) > configuration.maxBodySize { return .error(.payloadTooLarge, "TOO_BIG") }
        let topic: String
        switch topicName(query) {
        case .failure(let error): return error.response
        case .success(let name): topic = name
        }
        let binaryValue = query.first("binary")
        let binary = binaryValue.map { ["1", "t", "T", "TRUE", "true", "True"].contains($0) } ?? false
        var bodies: [ByteBuffer] = []
        if binary {
            let reader = NSQCommandDecoder(limits: .init(
                maxMsgSize: configuration.maxMsgSize, maxBodySize: configuration.maxBodySize,
                maxReqTimeoutMilliseconds: configuration.maxReqTimeout.nanoseconds / 1_000_000))
            switch reader.readBinaryMultiPublish(body) {
            case .success(let parsed): bodies = parsed
            case .failure(let error): return .error(.badRequest, String(error.code.dropFirst(2)))
            }
        } else {
            var remaining = body
            while remaining.readableBytes > 0 {
                let view = remaining.readableBytesView
                let end = view.firstIndex(of: UInt8(ascii: "\n")) ?? view.endIndex
                let length = end - view.startIndex
                guard let line = remaining.readSlice(length: length) else { break }
                if end != view.endIndex { remaining.moveReaderIndex(forwardBy: 1) }
                if line.readableBytes == 0 { continue }  // nsqd silently drops empty lines
                if Int64(line.readableBytes) > configuration.maxMsgSize { return .error(.payloadTooLarge, "MSG_TOO_BIG") }
                bodies.append(line)
            }
        }
        if !bodies.isEmpty { core.publish(topic: topic, bodies: bodies) } else { _ = core.topic(named: topic) }
        return .ok()
    }

    private func createTopic(_ query: Query) -> HTTPAPIResponse {
        switch topicName(query) {
        case .failure(let error): return error.response
        case .success(let name):
            _ = core.topic(named: name)
            return .empty
        }
    }

    private func topicAction(_ query: Query, _ action: (BrokerTopic) -> Void) -> HTTPAPIResponse {
        switch topicName(query) {
        case .failure(let error): return error.response
        case .success(let name):
            guard let topic = core.existingTopic(named: name) else { return .error(.notFound, "TOPIC_NOT_FOUND") }
            action(topic)
            return .empty
        }
    }

    /// nsqd's `getExistingTopicFromQuery` + channel lookup (created when `create`).
    private func channelAction(_ query: Query, create: Bool,
                               _ action: (BrokerTopic, BrokerChannel) -> Void) -> HTTPAPIResponse {
        guard let values = query.values else { return .error(.badRequest, "INVALID_REQUEST") }
        guard let topicName = values["topic"]?.first else { return .error(.badRequest, "MISSING_ARG_TOPIC") }
        guard NSQProtocol.isValidName(topicName) else { return .error(.badRequest, "INVALID_TOPIC") }
        guard let channelName = values["channel"]?.first else { return .error(.badRequest, "MISSING_ARG_CHANNEL") }
        guard NSQProtocol.isValidName(channelName) else { return .error(.badRequest, "INVALID_CHANNEL") }
        guard let topic = core.existingTopic(named: topicName) else { return .error(.notFound, "TOPIC_NOT_FOUND") }
        let channel: BrokerChannel
        if create {
            channel = topic.channel(named: channelName)
        } else {
            guard let existing = topic.existingChannel(named: channelName) else {
                return .error(.notFound, "CHANNEL_NOT_FOUND")
            }
            channel = existing
        }
        action(topic, channel)
        return .empty
    }

    // MARK: nsqlookupd endpoints

    private func producerJSON(extra: String = "") -> String {
        let configuration = core.configuration
        let address = configuration.resolvedBroadcastAddress
        return "{\"remote_address\":\(GoJSON.string("\(address):\(core.tcpPort)")),"
            + "\"hostname\":\(GoJSON.string(configuration.hostname)),\"broadcast_address\":\(GoJSON.string(address)),"
            + "\"tcp_port\":\(core.tcpPort),\"http_port\":\(core.httpPort),\"version\":\"\(NSQProtocol.version)\"\(extra)}"
    }

    private func lookup(_ query: Query) -> HTTPAPIResponse {
        guard let values = query.values else { return .error(.badRequest, "INVALID_REQUEST") }
        guard let name = values["topic"]?.first else { return .error(.badRequest, "MISSING_ARG_TOPIC") }
        guard let topic = core.existingTopic(named: name) else { return .error(.notFound, "TOPIC_NOT_FOUND") }
        return .json("{\"channels\":\(GoJSON.stringArray(topic.channels.keys.sorted())),\"producers\":[\(producerJSON())]}")
    }

    private func nodes() -> HTTPAPIResponse {
        let topics = core.topics.keys.sorted()
        let tombstones = "[" + topics.map { _ in "false" }.joined(separator: ",") + "]"
        let extra = ",\"tombstones\":\(tombstones),\"topics\":\(GoJSON.stringArray(topics))"
        return .json("{\"producers\":[\(producerJSON(extra: extra))]}")
    }

    private func channels(_ query: Query) -> HTTPAPIResponse {
        guard let values = query.values else { return .error(.badRequest, "INVALID_REQUEST") }
        guard let name = values["topic"]?.first else { return .error(.badRequest, "MISSING_ARG_TOPIC") }
        let names = core.existingTopic(named: name)?.channels.keys.sorted() ?? []
        return .json("{\"channels\":\(GoJSON.stringArray(names))}")
    }
}

/// An API error: status and nsqd's message code.
struct HTTPAPIError: Error {
    var status: HTTPResponseStatus
    var message: String
    init(_ status: HTTPResponseStatus, _ message: String) {
        self.status = status
        self.message = message
    }
    var response: HTTPAPIResponse { .error(status, message) }
}

import NIOCore
import Testing
@testable import NSQBroker

/// HTTP API endpoints beyond the golden transcript.
@Suite("HTTP API")
struct HTTPAPITests {
    static func request(_ port: Int, _ method: String, _ target: String, body: [UInt8] = []) async throws -> HTTPTestResponse {
        let socket = try TestSocket(port: port)
        socket.send(HTTPTestRequest.make(method: method, target: target, body: body, port: port))
        return HTTPTestResponse(raw: try await socket.readHTTPResponse())
    }

    @Test func binaryMultiPublish() async throws {
        try await withBroker { broker, _, http in
            var body: [UInt8] = [0, 0, 0, 2]
            for text in ["one", "two"] { body += [0, 0, 0, UInt8(text.utf8.count)] + Array(text.utf8) }
            let response = try await Self.request(http, "POST", "/mpub?topic=bin&binary=true", body: body)
            #expect(response.status == 200 && response.body == "OK")
            #expect(await broker.stats().topic("bin")?.messageCount == 2)
            let bad = try await Self.request(http, "POST", "/mpub?topic=bin&binary=true", body: [0, 0, 0, 0])
            #expect(bad.status == 400 && bad.body == #"{"message":"BAD_BODY"}"#)
        }
    }

    @Test func newlineMultiPublishSkipsEmptyLines() async throws {
        try await withBroker { broker, _, http in
            let response = try await Self.request(http, "POST", "/mpub?topic=lines", body: Array("a\n\nb\nc".utf8))
            #expect(response.status == 200)
            #expect(await broker.stats().topic("lines")?.messageCount == 3)
        }
    }

    @Test func bodiesOverTheLimitAreRefused() async throws {
        try await withBroker({ $0.maxBodySize = 1000; $0.maxMsgSize = 100 }) { _, _, http in
            let tooBig = try await Self.request(http, "POST", "/mpub?topic=t", body: [UInt8](repeating: 0x61, count: 1500))
            #expect(tooBig.status == 413 && tooBig.body == #"{"message":"TOO_BIG"}"#)
            let message = try await Self.request(http, "POST", "/pub?topic=t", body: [UInt8](repeating: 0x61, count: 150))
            #expect(message.status == 413 && message.body == #"{"message":"MSG_TOO_BIG"}"#)
            let empty = try await Self.request(http, "POST", "/pub?topic=t")
            #expect(empty.status == 400 && empty.body == #"{"message":"MSG_EMPTY"}"#)
        }
    }

    @Test func topicAndChannelManagement() async throws {
        try await withBroker { broker, _, http in
            let missing = try await Self.request(http, "POST", "/channel/create?topic=none&channel=c")
            #expect(missing.status == 404 && missing.body == #"{"message":"TOPIC_NOT_FOUND"}"#)
            let created = try await Self.request(http, "POST", "/topic/create?topic=t")
            #expect(created.status == 200 && created.body.isEmpty)
            #expect(created.headers.map(\.0) == ["X-Nsq-Content-Type", "Date", "Content-Length"])
            #expect(try await Self.request(http, "POST", "/channel/create?topic=t&channel=c").status == 200)
            #expect(try await Self.request(http, "POST", "/pub?topic=t", body: Array("x".utf8)).status == 200)
            #expect(await broker.stats().topic("t")?.channel("c")?.depth == 1)
            #expect(try await Self.request(http, "POST", "/channel/empty?topic=t&channel=c").status == 200)
            #expect(await broker.stats().topic("t")?.channel("c")?.depth == 0)
            let noChannel = try await Self.request(http, "POST", "/channel/empty?topic=t&channel=zz")
            #expect(noChannel.status == 404 && noChannel.body == #"{"message":"CHANNEL_NOT_FOUND"}"#)
            let badChannel = try await Self.request(http, "POST", "/channel/create?topic=t&channel=bad!")
            #expect(badChannel.status == 400 && badChannel.body == #"{"message":"INVALID_CHANNEL"}"#)
            let lookup = try await Self.request(http, "GET", "/lookup?topic=t")
            #expect(lookup.body.hasPrefix(#"{"channels":["c"],"producers":[{"remote_address":"#))
            #expect(try await Self.request(http, "POST", "/topic/delete?topic=t").status == 200)
            #expect(try await Self.request(http, "GET", "/lookup?topic=t").status == 404)
        }
    }

    @Test func unknownPathsAndMethods() async throws {
        try await withBroker { _, _, http in
            let notFound = try await Self.request(http, "GET", "/nope")
            #expect(notFound.status == 404 && notFound.body == #"{"message":"NOT_FOUND"}"#)
            let wrongMethod = try await Self.request(http, "GET", "/pub?topic=t")
            #expect(wrongMethod.status == 405 && wrongMethod.body == #"{"message":"METHOD_NOT_ALLOWED"}"#)
            let missingTopic = try await Self.request(http, "POST", "/pub", body: Array("x".utf8))
            #expect(missingTopic.status == 400 && missingTopic.body == #"{"message":"MISSING_ARG_TOPIC"}"#)
        }
    }

    @Test func statsReportClientsAndDeferredPublish() async throws {
        try await withBroker { _, port, http in
            let consumer = try await DeliveryTests.consumer(port: port, topic: "s", channel: "c", rdy: 5,
                                                      identify: #"{"client_id":"me","output_buffer_size":-1}"#)
            #expect(try await Self.request(http, "POST", "/pub?topic=s&defer=60000", body: Array("later".utf8)).status == 200)
            let stats = try await Self.request(http, "GET", "/stats?format=json&topic=s")
            #expect(stats.body.contains(#""deferred_count":1"#))
            #expect(stats.body.contains(#""client_id":"me""#))
            #expect(stats.body.contains(#""ready_count":5"#))
            let text = try await Self.request(http, "GET", "/stats")
            #expect(text.body.contains("[s]"))
            _ = consumer
        }
    }
}

import Foundation
import NIOCore
import NIOPosix
import Testing

@testable import PlayCounts
@testable import PlayClients

@Suite("Webhook client", .timeLimit(.minutes(1)))
struct ClientWebhookTests {
    let a = VideoID("6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b")!
    let b = VideoID("00000000-0000-4000-8000-000000000001")!

    func call(_ sequence: Int) -> PublishCall {
        PublishCall(
            sequence: sequence, publishedAt: 1_795_935_600_123_456_000,
            counts: [VideoCount(video: a, plays: 100 + sequence), VideoCount(video: b, plays: 7)])
    }

    @Test func postsTheCallAsJSONWithIdempotencyKey() async throws {
        let server = try await ClientTestHTTPServer()
        let client = try WebhookPublishClient(url: server.url)
        try await client.publish(call(1))
        try await client.publish(call(2))
        await client.shutdown()
        await server.stop()

        let requests = server.requests
        try #require(requests.count == 2)
        let first = requests[0]
        #expect(first.method == .POST)
        #expect(first.uri == "/hooks/counts")
        #expect(first.headers["Content-Type"] == ["application/json"])
        #expect(first.headers["Idempotency-Key"] == ["1"])
        #expect(requests[1].headers["Idempotency-Key"] == ["2"])
        #expect(first.headers["Host"] == ["127.0.0.1:\(server.port)"])
        #expect(first.headers["Content-Length"] == ["\(first.body.count)"])
        #expect(first.body == PublishCallEncoder.encode(call(1)))
        let json = try #require(try JSONSerialization.jsonObject(with: Data(first.body)) as? [String: Any])
        #expect(json["sequence"] as? Int == 1)
        #expect(json["published_at"] as? String == "2026-11-29T07:00:00.123456Z")
        #expect(json["counts"] as? [String: Int] == [a.description: 101, b.description: 7])
        // Both calls went over one kept-alive connection.
        #expect(requests.map(\.connection) == [1, 1])
        #expect(server.connectionCount == 1)
    }

    @Test func throwsTheStatusOfANon2xxAnswer() async throws {
        let server = try await ClientTestHTTPServer()
        server.answer(.status(500))
        let client = try WebhookPublishClient(url: server.url)
        await #expect {
            try await client.publish(call(1))
        } throws: { error in
            guard let error = error as? WebhookPublishError else { return false }
            return error.code == .badStatus && error.status == 500 && error.message.contains("answer 500")
        }
        // The connection survives a well-formed error answer; the next call succeeds on it.
        server.answer(.status(204))
        try await client.publish(call(2))
        #expect(server.connectionCount == 1)
        await client.shutdown()
        await server.stop()
    }

    @Test func timesOutWhenTheServerNeverAnswers() async throws {
        let server = try await ClientTestHTTPServer()
        server.answer(.silence)
        let client = try WebhookPublishClient(url: server.url, timeout: .milliseconds(300))
        let started = ContinuousClock.now
        await #expect {
            try await client.publish(call(1))
        } throws: { error in
            (error as? WebhookPublishError)?.code == .timeout
        }
        #expect(ContinuousClock.now - started < .seconds(5))
        // The timed-out connection is dropped; the next call opens a new one and succeeds.
        server.answer(.status(200))
        try await client.publish(call(2))
        #expect(server.requests.last?.connection == 2)
        await client.shutdown()
        await server.stop()
    }

    @Test func reconnectsAfterTheServerRestarts() async throws {
        let server = try await ClientTestHTTPServer()
        let port = server.port
        let client = try WebhookPublishClient(url: server.url)
        try await client.publish(call(1))
        await server.stop()

        // While the server is down a call fails with a connection error (refused or closed).
        await #expect {
            try await client.publish(call(2))
        } throws: { error in
            let code = (error as? WebhookPublishError)?.code
            return code == .connectFailed || code == .connectionFailed
        }

        let reopened = try await ClientTestHTTPServer(port: port)
        try await client.publish(call(3))
        #expect(reopened.requests.map { $0.headers["Idempotency-Key"] } == [["3"]])
        await client.shutdown()
        await reopened.stop()
    }

    @Test func survivesTheServerClosingAnIdleConnection() async throws {
        let server = try await ClientTestHTTPServer()
        server.answer(.statusThenClose(200))
        let client = try WebhookPublishClient(url: server.url)
        try await client.publish(call(1))
        server.answer(.status(200))
        try await client.publish(call(2))
        try await client.publish(call(3))
        #expect(server.requests.map(\.connection) == [1, 2, 2])
        await client.shutdown()
        await server.stop()
    }

    @Test func retriesOnceOnAFreshConnectionWhenAKeptAliveOneDies() async throws {
        let server = try await ClientTestHTTPServer()
        let client = try WebhookPublishClient(url: server.url)
        try await client.publish(call(1))
        server.answer(.closeWithoutAnswer)
        await #expect {
            try await client.publish(call(2))
        } throws: { error in
            (error as? WebhookPublishError)?.code == .connectionFailed
        }
        // Sent on the kept-alive connection, then once more on a fresh one, and no more.
        #expect(server.requests.map(\.connection) == [1, 1, 2])
        #expect(server.requests.map { $0.headers["Idempotency-Key"] } == [["1"], ["2"], ["2"]])
        server.answer(.status(200))
        try await client.publish(call(3))
        #expect(server.requests.map(\.connection) == [1, 1, 2, 3])
        await client.shutdown()
        await server.stop()
    }

    @Test func cancellingTheCallerEndsTheAttemptAtOnce() async throws {
        let server = try await ClientTestHTTPServer()
        server.answer(.silence)
        let client = try WebhookPublishClient(url: server.url, timeout: .seconds(60))
        let started = ContinuousClock.now
        let attempt = Task { try await client.publish(call(1)) }
        // Cancel only once the request has reached the server, so the wait for the answer is what is cancelled.
        while server.requests.isEmpty, ContinuousClock.now - started < .seconds(10) {
            try await Task.sleep(for: .milliseconds(5))
        }
        try #require(server.requests.count == 1)
        attempt.cancel()
        await #expect(throws: CancellationError.self) { try await attempt.value }
        #expect(ContinuousClock.now - started < .seconds(30))
        server.answer(.status(200))
        try await client.publish(call(2))
        #expect(server.requests.map(\.connection) == [1, 2])
        await client.shutdown()
        await server.stop()
    }

    @Test func reportsConnectionRefused() async throws {
        // Find a free port, then make sure nothing listens on it.
        let probe = try await ClientTestHTTPServer()
        let port = probe.port
        await probe.stop()
        let client = try WebhookPublishClient(url: "http://127.0.0.1:\(port)/x", timeout: .seconds(2))
        await #expect {
            try await client.publish(call(1))
        } throws: { error in
            (error as? WebhookPublishError)?.code == .connectFailed
        }
    }

    @Test func serialisesConcurrentCalls() async throws {
        let server = try await ClientTestHTTPServer()
        let client = try WebhookPublishClient(url: server.url)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for sequence in 1...20 {
                group.addTask { try await client.publish(call(sequence)) }
            }
            try await group.waitForAll()
        }
        let keys = Set(server.requests.compactMap { $0.headers["Idempotency-Key"].first })
        #expect(keys == Set((1...20).map(String.init)))
        #expect(server.connectionCount == 1)
        await client.shutdown()
        await server.stop()
    }

    // MARK: https

    @Test func postsOverHTTPSToASelfSignedServerGivenAsTrustedRoot() async throws {
        let server = try await ClientTestHTTPServer(tls: ClientTestHTTPServer.testTLSContext())
        #expect(server.url.hasPrefix("https://127.0.0.1:"))
        let client = try WebhookPublishClient(url: server.url, caFile: ClientTestHTTPServer.certificatePath)
        #expect(client.description == server.url)
        try await client.publish(call(1))
        try await client.publish(call(2))
        await client.shutdown()
        await server.stop()

        let requests = server.requests
        try #require(requests.count == 2)
        #expect(requests.map { $0.headers["Idempotency-Key"] } == [["1"], ["2"]])
        #expect(requests[0].headers["Content-Type"] == ["application/json"])
        #expect(requests[0].headers["User-Agent"] == ["playcount"])
        #expect(requests[0].headers["Host"] == ["127.0.0.1:\(server.port)"])
        #expect(requests[0].uri == "/hooks/counts")
        #expect(requests[0].body == PublishCallEncoder.encode(call(1)))
        // One TLS connection, kept alive across both calls.
        #expect(requests.map(\.connection) == [1, 1])
        #expect(server.connectionCount == 1)
    }

    @Test func refusesAnUntrustedSelfSignedServerWithAClearTLSError() async throws {
        let server = try await ClientTestHTTPServer(tls: ClientTestHTTPServer.testTLSContext())
        // The system's roots do not include the test certificate.
        let client = try WebhookPublishClient(url: server.url, timeout: .seconds(10))
        let started = ContinuousClock.now
        await #expect {
            try await client.publish(call(1))
        } throws: { error in
            guard let error = error as? WebhookPublishError else { return false }
            return error.code == .tlsFailed && error.message.contains("certificate is not trusted")
                && error.message.contains(server.url)
        }
        // Refused at the handshake, not at the timeout; nothing reached the server's HTTP layer.
        #expect(ContinuousClock.now - started < .seconds(5))
        #expect(server.requests.isEmpty)
        await client.shutdown()
        await server.stop()
    }

    @Test func httpsTimesOutWhenTheServerNeverAnswers() async throws {
        let server = try await ClientTestHTTPServer(tls: ClientTestHTTPServer.testTLSContext())
        server.answer(.silence)
        let started = ContinuousClock.now
        let client = try WebhookPublishClient(
            url: server.url, timeout: .seconds(1), caFile: ClientTestHTTPServer.certificatePath)
        await #expect {
            try await client.publish(call(1))
        } throws: { error in
            (error as? WebhookPublishError)?.code == .timeout
        }
        server.answer(.status(200))
        try await client.publish(call(2))
        #expect(server.requests.map(\.connection) == [1, 2])
        // The timed-out connection's TLS close does not wait long for a close_notify the hung server never
        // reads (NIOSSL would wait 5 s by default).
        await client.shutdown()
        #expect(ContinuousClock.now - started < .seconds(4))
        await server.stop()
    }

    @Test func refusesAMissingOrEmptyCAFile() throws {
        #expect {
            try WebhookPublishClient(url: "https://127.0.0.1:1/x", caFile: "/nonexistent/ca.pem")
        } throws: { error in
            guard let error = error as? PublishClientError else { return false }
            return error.code == .invalidCAFile && error.message.contains("/nonexistent/ca.pem")
                && error.message.contains("No such file")
        }
        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("empty-\(UUID().uuidString).pem").path
        FileManager.default.createFile(atPath: empty, contents: Data("not a certificate\n".utf8))
        defer { try? FileManager.default.removeItem(atPath: empty) }
        #expect {
            try WebhookPublishClient(url: "https://127.0.0.1:1/x", caFile: empty)
        } throws: { error in
            (error as? PublishClientError)?.code == .invalidCAFile
        }
    }

    @Test func aClientDroppedWithoutShutdownIsReleased() async throws {
        let server = try await ClientTestHTTPServer()
        do {
            let client = try WebhookPublishClient(url: server.url)
            try await client.publish(call(1))
        }
        // deinit shut its HTTPClient down (a debug build would trap otherwise) and closed the connection.
        await server.stop()
        #expect(server.requests.count == 1)
    }
}

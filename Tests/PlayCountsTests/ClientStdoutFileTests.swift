import Foundation
import Testing

@testable import PlayCounts
@testable import PlayClients

@Suite("Stdout and file clients, client factory")
struct ClientStdoutFileTests {
    let video = VideoID("6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b")!

    func call(_ sequence: Int) -> PublishCall {
        PublishCall(sequence: sequence, publishedAt: 1_000_000_000, counts: [VideoCount(video: video, plays: sequence * 10)])
    }

    func temporaryPath() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("playcount-\(UUID().uuidString).jsonl").path
    }

    @Test func stdoutClientWritesOneLinePerCall() async throws {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        defer { close(fds[0]) }
        let client = StdoutPublishClient(fileDescriptor: fds[1], description: "stdout")
        try await client.publish(call(1))
        try await client.publish(call(2))
        close(fds[1])
        let output = FileHandle(fileDescriptor: fds[0]).readDataToEndOfFile()
        let expected = PublishCallEncoder.encodeLine(call(1)) + PublishCallEncoder.encodeLine(call(2))
        #expect(Array(output) == expected)
        #expect(client.description == "stdout")
    }

    #if os(Linux)
    @Test func stdoutClientReportsWriteErrors() async throws {
        // /dev/full fails every write with ENOSPC (a closed descriptor's number could be reused by a parallel test).
        let fd = open("/dev/full", O_WRONLY)
        try #require(fd >= 0)
        defer { close(fd) }
        let client = StdoutPublishClient(fileDescriptor: fd, description: "stdout")
        await #expect {
            try await client.publish(call(1))
        } throws: { error in
            "\(error)".contains("No space left on device")
        }
    }
    #endif

    @Test func fileClientAppendsAndIsReadableAfterEachCall() async throws {
        let path = temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Data("existing line\n".utf8).write(to: URL(fileURLWithPath: path))
        let client = try FilePublishClient(path: path)
        #expect(client.description == "file:\(path)")
        try await client.publish(call(1))
        // Visible to a reader straight away: nothing waits in a buffer.
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data("existing line\n".utf8 + PublishCallEncoder.encodeLine(call(1))))
        try await client.publish(call(2))
        await client.close()
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 3)
        #expect(lines[2] == Substring(String(decoding: PublishCallEncoder.encode(call(2)), as: UTF8.self)))
        await #expect(throws: PublishClientError.self) { try await client.publish(call(3)) }
    }

    @Test func fileClientFailsClearlyOnABadPath() {
        #expect {
            _ = try FilePublishClient(path: "/nonexistent-dir-\(UUID().uuidString)/out.jsonl")
        } throws: { error in
            (error as? PublishClientError)?.code == .cannotOpen && "\(error)".contains("No such file")
        }
    }

    @Test func factoryBuildsEachKind() throws {
        #expect(try PublishClientFactory.make(spec: "stdout") is StdoutPublishClient)
        let path = temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let file = try PublishClientFactory.make(spec: "file:\(path)")
        #expect(file is FilePublishClient)
        #expect(file.description == "file:\(path)")
        let webhook = try PublishClientFactory.make(spec: " http://127.0.0.1:8080/counts?x=1 ")
        #expect(webhook is WebhookPublishClient)
        #expect(webhook.description == "http://127.0.0.1:8080/counts?x=1")
    }

    @Test(arguments: ["", "stdou", "ftp://host/x", "file:", "counts.jsonl"])
    func factoryRejectsUnknownSpecs(spec: String) {
        #expect(throws: PublishClientError.self) { try PublishClientFactory.make(spec: spec) }
    }

    @Test func factoryBuildsHTTPSWebhooksAndExplainsOtherSchemes() throws {
        let https = try PublishClientFactory.make(spec: "https://example.com/hook")
        #expect(https is WebhookPublishClient)
        #expect(https.description == "https://example.com/hook")
        #expect {
            try WebhookURL("ftp://example.com/hook")
        } throws: { error in
            (error as? PublishClientError)?.code == .unsupportedScheme && "\(error)".contains("http:// and https://")
        }
    }

    @Test func parsesWebhookURLs() throws {
        let plain = try WebhookURL("http://localhost")
        #expect((plain.host, plain.port, plain.target, plain.hostHeader) == ("localhost", 80, "/", "localhost"))
        let full = try WebhookURL("HTTP://127.0.0.1:9000/a/b?c=d#frag")
        #expect((full.host, full.port, full.target, full.hostHeader) == ("127.0.0.1", 9000, "/a/b?c=d", "127.0.0.1:9000"))
        let secure = try WebhookURL("HTTPS://example.com/hook")
        #expect((secure.scheme, secure.host, secure.port, secure.target) == ("https", "example.com", 443, "/hook"))
        #expect(secure.hostHeader == "example.com")
        #expect(secure.description == "https://example.com/hook")
        let securePort = try WebhookURL("https://127.0.0.1:8443")
        #expect((securePort.port, securePort.hostHeader, securePort.description) == (8443, "127.0.0.1:8443", "https://127.0.0.1:8443/"))
        #expect(try WebhookURL("http://h:443/").hostHeader == "h:443")
        let v6 = try WebhookURL("http://[::1]:8080?q")
        #expect((v6.host, v6.port, v6.target, v6.hostHeader) == ("::1", 8080, "/?q", "[::1]:8080"))
        for bad in ["http://", "http://host:0/", "http://host:70000/", "http://host:x/", "http://u@host/", "http://h/a b", "http://[::1"] {
            #expect(throws: PublishClientError.self, "\(bad)") { try WebhookURL(bad) }
        }
    }
}

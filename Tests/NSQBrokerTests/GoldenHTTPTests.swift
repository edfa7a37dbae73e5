import Foundation
import NIOCore
import Testing
@testable import NSQBroker

/// Replays golden-http.txt (nsqd and nsqlookupd v1.3.0) against the broker's HTTP port: status lines,
/// header names, order and values (Date aside), and bodies byte for byte once run-dependent values
/// (hostname, ports, start time, Go heap figures, remote address) are masked.
@Suite("Golden HTTP transcript")
struct GoldenHTTPTests {
    @Test func replayTranscript() async throws {
        let transcript = GoldenHTTPTranscript(text: try GoldenFiles.text("golden-http.txt"))
        #expect(transcript.exchanges.count == 9)
        try await withBroker { broker, _, httpPort in
            // The capture's nsqd already had channel "processor" on "plays" (its stats show it).
            try await broker.create(topic: "plays", channel: "processor")
            for exchange in transcript.exchanges {
                let socket = try TestSocket(port: httpPort)
                socket.send(HTTPTestRequest.make(method: exchange.method, target: exchange.target,
                                                 body: exchange.body, port: httpPort))
                let response = HTTPTestResponse(raw: try await socket.readHTTPResponse())
                let label = "\(exchange.method) \(exchange.target)"
                if exchange.includesHead {
                    #expect(response.statusLine == exchange.statusLine, "\(label)")
                    #expect(response.headers.map(\.0) == exchange.headers.map(\.0), "\(label) header order")
                    for ((name, actual), (_, expected)) in zip(response.headers, exchange.headers) {
                        if name == "Date" {
                            #expect(actual.hasSuffix(" GMT") && actual.count == 29, "\(label) Date \(actual)")
                        } else {
                            #expect(actual == expected, "\(label) \(name)")
                        }
                    }
                } else {
                    #expect(response.statusLine == "HTTP/1.1 200 OK", "\(label)")
                }
                let masksChannels = exchange.target.hasPrefix("/lookup")
                #expect(Self.mask(response.body, channels: masksChannels)
                        == Self.mask(exchange.expectedBody, channels: masksChannels), "\(label) body")
            }
        }
    }

    /// Values that differ from run to run or host to host.
    static let volatileKeys = [
        "start_time", "hostname", "remote_address", "tcp_port", "http_port", "heap_objects", "heap_idle_bytes",
        "heap_in_use_bytes", "heap_released_bytes", "gc_pause_usec_100", "gc_pause_usec_99", "gc_pause_usec_95",
        "next_gc_bytes", "gc_total_runs",
    ]

    static func mask(_ body: String, channels: Bool) -> String {
        var text = body
        for key in volatileKeys {
            text = text.replacingOccurrences(
                of: "\"\(key)\":(\"[^\"]*\"|[0-9]+)", with: "\"\(key)\":#", options: .regularExpression)
        }
        // The capture's lookupd and nsqd disagree on the channel list; channels are tested elsewhere.
        if channels {
            text = text.replacingOccurrences(of: "\"channels\":\\[[^\\]]*\\]", with: "\"channels\":#", options: .regularExpression)
        }
        return text
    }
}

enum HTTPTestRequest {
    /// What curl sends for these commands.
    static func make(method: String, target: String, body: [UInt8], port: Int, keepAlive: Bool = false) -> [UInt8] {
        var head = "\(method) \(target) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\n"
        if method == "POST" {
            head += "Content-Length: \(body.count)\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        }
        if !keepAlive { head += "Connection: close\r\n" }
        return Array((head + "\r\n").utf8) + body
    }
}

struct HTTPTestResponse {
    var statusLine: String
    var headers: [(String, String)]
    var body: String
    var status: Int { Int(statusLine.split(separator: " ")[1]) ?? 0 }

    init(raw: String) {
        let parts = raw.components(separatedBy: "\r\n\r\n")
        let headLines = parts[0].components(separatedBy: "\r\n")
        statusLine = headLines[0]
        headers = headLines.dropFirst().map { line in
            let pieces = line.split(separator: ":", maxSplits: 1)
            return (String(pieces[0]), pieces.count > 1 ? String(pieces[1].dropFirst()) : "")
        }
        body = parts.dropFirst().joined(separator: "\r\n\r\n")
    }
}

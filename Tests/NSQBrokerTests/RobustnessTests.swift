import NIOCore
import Testing
@testable import NSQBroker

/// Random and hostile input: the broker answers with errors or closes, never crashes or hangs.
@Suite("Robustness")
struct RobustnessTests {
    /// After the abuse, a fresh client can still publish and consume.
    static func assertStillServes(_ broker: NSQBroker, port: Int) async throws {
        let consumer = try await DeliveryTests.consumer(port: port, topic: "after", channel: "check", rdy: 1)
        let producer = try TestSocket.v2(port: port)
        producer.send(command: "PUB after", body: Array("alive".utf8))
        #expect(try await producer.readFrame().text == "OK")
        #expect(try await consumer.readNonHeartbeat().body == Array("alive".utf8))
    }

    @Test func randomBytesOnTheTCPPort() async throws {
        try await withBroker { broker, port, _ in
            var generator = SystemRandomNumberGenerator()
            var closedByServer = 0
            for round in 0..<150 {
                let socket = try TestSocket(port: port)
                var bytes = (0..<Int.random(in: 1...3000, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
                // Half the rounds get past the magic, so the command parser sees the garbage.
                if round % 2 == 0 { bytes = Array("  V2".utf8) + bytes }
                if round % 3 == 0 {
                    // Text-like garbage: random command words, spaces and newlines.
                    let words = ["PUB", "MPUB", "DPUB", "SUB", "RDY", "FIN", "REQ", "TOUCH", "IDENTIFY", "CLS", "NOP", "AUTH", " ", "\n", "x", "9999999999999999999", "-1"]
                    bytes = Array("  V2".utf8) + (0..<50).flatMap { _ in Array(words.randomElement(using: &generator)!.utf8) }
                }
                socket.send(bytes)
                let (received, closed) = await socket.readAll(timeout: .milliseconds(100))
                if closed { closedByServer += 1 }
                // Whatever came back must be well-formed frames.
                var index = 0
                while index + 8 <= received.count {
                    let size = Int(received[index..<index + 4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
                    #expect(size >= 4)
                    index += 4 + size
                }
            }
            #expect(closedByServer > 0)
            try await Self.assertStillServes(broker, port: port)
        }
    }

    @Test func garbageHTTPRequests() async throws {
        try await withBroker { broker, port, httpPort in
            var generator = SystemRandomNumberGenerator()
            let requests: [[UInt8]] = [
                Array("GARBAGE\r\n\r\n".utf8),
                Array("GET / HTTP/9.9\r\n\r\n".utf8),
                Array("POST /pub?topic=%zz HTTP/1.1\r\nContent-Length: 1\r\n\r\nx".utf8),
                Array("POST /mpub?topic=t&binary=true HTTP/1.1\r\nContent-Length: 4\r\n\r\n\u{7f}\u{7f}\u{7f}\u{7f}".utf8),
                (0..<500).map { _ in UInt8.random(in: 0...255, using: &generator) },
            ]
            for request in requests {
                let socket = try TestSocket(port: httpPort)
                socket.send(request)
                let (bytes, _) = await socket.readAll(timeout: .milliseconds(300))
                let text = String(decoding: bytes, as: UTF8.self)
                #expect(text.isEmpty || text.hasPrefix("HTTP/1.1 4") || text.hasPrefix("HTTP/1.0 4"), "\(text)")
            }
            let ping = try TestSocket(port: httpPort)
            ping.send(HTTPTestRequest.make(method: "GET", target: "/ping", body: [], port: httpPort))
            #expect(HTTPTestResponse(raw: try await ping.readHTTPResponse()).body == "OK")
            try await Self.assertStillServes(broker, port: port)
        }
    }

    @Test func oversizedMessagesAreRefused() async throws {
        try await withBroker({ $0.maxMsgSize = 1024 }) { broker, port, _ in
            let socket = try TestSocket.v2(port: port)
            socket.send(command: "PUB big", body: [UInt8](repeating: 0x61, count: 2000))
            #expect(try await socket.readFrame().text == "E_BAD_MESSAGE PUB message too big 2000 > 1024")
            #expect(try await socket.readUntilClosed().isEmpty)
            try await Self.assertStillServes(broker, port: port)
        }
    }
}

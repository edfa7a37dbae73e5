import Foundation
import NIOCore
import Testing
@testable import NSQBroker

/// Replays every section of golden-tcp.txt (captured from nsqd v1.3.0) against the broker over loopback
/// and checks every server frame byte for byte, except message timestamps and ids, which must instead be
/// consistent (the same transcript id or timestamp always maps to the same actual value).
@Suite("Golden TCP transcript")
struct GoldenTCPTests {
    static let transcript = GoldenTCPTranscript(text: (try? GoldenFiles.text("golden-tcp.txt")) ?? "")

    @Test func transcriptIsComplete() {
        #expect(Self.transcript.sections.count == 11)
        let steps = Self.transcript.sections.flatMap(\.steps)
        #expect(steps.filter { if case .server = $0 { true } else { false } }.count == 27)
        #expect(steps.filter { $0 == .serverClosed }.count == 9)
    }

    @Test(arguments: GoldenTCPTests.transcript.sections.map(\.title))
    func replay(section title: String) async throws {
        let section = try #require(Self.transcript.sections.first { $0.title == title })
        try await withBroker { _, tcpPort, _ in
            var replayer = try Replayer(port: tcpPort)
            for step in section.steps { try await replayer.perform(step) }
            try replayer.finish()
        }
    }

    /// Plays one section; the consumer connection tolerates asynchronous frames (heartbeats, the
    /// deferred message) arriving earlier than in the capture, but every expected frame must arrive.
    struct Replayer {
        let port: Int
        let consumer: TestSocket
        var producer: TestSocket?
        var lastWasProducer = false
        var unmatched: [TestSocket.Frame] = []
        var ids: [String: String] = [:]
        var timestamps: [Int64: Int64] = [:]

        init(port: Int) throws {
            self.port = port
            consumer = try TestSocket(port: port)
        }

        mutating func perform(_ step: GoldenTCPTranscript.Step) async throws {
            switch step {
            case .client(let bytes, let toProducer):
                let substituted = substitute(bytes)
                if toProducer {
                    if producer == nil { producer = try TestSocket.v2(port: port) }
                    producer?.send(substituted)
                } else {
                    consumer.send(substituted)
                }
                lastWasProducer = toProducer
            case .server(let bytes):
                let expected = Self.frame(bytes)
                if lastWasProducer, let producer {
                    let actual = try await producer.readNonHeartbeat()
                    #expect(actual == expected, "producer frame")
                } else {
                    try await expectOnConsumer(expected)
                }
            case .serverClosed:
                let socket = lastWasProducer ? producer! : consumer
                let frames = try await socket.readUntilClosed()
                #expect(frames.allSatisfy { $0.isHeartbeat }, "no frame expected before the close, got \(frames)")
                #expect(unmatched.allSatisfy { $0.isHeartbeat }, "unexpected frames \(unmatched)")
            }
        }

        func finish() throws {
            #expect(unmatched.allSatisfy { $0.isHeartbeat }, "frames the transcript does not have: \(unmatched)")
        }

        private mutating func expectOnConsumer(_ expected: TestSocket.Frame) async throws {
            let deadline = ContinuousClock.now + .seconds(6)
            while true {
                if let index = unmatched.firstIndex(where: { matches(expected, $0) }) {
                    let actual = unmatched.remove(at: index)
                    let skipped = unmatched.prefix(index)
                    #expect(skipped.allSatisfy { $0.isHeartbeat || $0.type == 2 },
                            "frames arrived before \(expected) out of order: \(Array(skipped))")
                    if expected.type == 2 { record(expected, actual) }
                    return
                }
                do {
                    unmatched.append(try await consumer.readFrame(timeout: deadline - ContinuousClock.now))
                } catch {
                    Issue.record("expected \(expected) (\(expected.text)); received meanwhile: \(unmatched) — \(error)")
                    throw error
                }
            }
        }

        /// Exact for responses and errors; for messages: size, attempts and body exact, id and timestamp
        /// consistent with what was seen so far, timestamp close to now.
        private func matches(_ expected: TestSocket.Frame, _ actual: TestSocket.Frame) -> Bool {
            guard expected.type == 2 else { return expected == actual }
            guard actual.type == 2, actual.data.count == expected.data.count, actual.attempts == expected.attempts,
                  actual.body == expected.body else { return false }
            if let known = ids[expected.messageID], known != actual.messageID { return false }
            if ids[expected.messageID] == nil, ids.values.contains(actual.messageID) { return false }
            if let known = timestamps[expected.timestamp], known != actual.timestamp { return false }
            let now = Int64(Date().timeIntervalSince1970 * 1_000_000_000)
            return abs(now - actual.timestamp) < 120_000_000_000
                && actual.messageID.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }
        }

        private mutating func record(_ expected: TestSocket.Frame, _ actual: TestSocket.Frame) {
            ids[expected.messageID] = actual.messageID
            timestamps[expected.timestamp] = actual.timestamp
        }

        /// Replaces transcript message ids in client bytes with the ids this broker gave.
        private func substitute(_ bytes: [UInt8]) -> [UInt8] {
            var out = bytes
            for (golden, actual) in ids {
                let pattern = Array(golden.utf8)
                let replacement = Array(actual.utf8)
                var index = 0
                while index + pattern.count <= out.count {
                    if Array(out[index..<index + pattern.count]) == pattern {
                        out.replaceSubrange(index..<index + pattern.count, with: replacement)
                        index += pattern.count
                    } else {
                        index += 1
                    }
                }
            }
            return out
        }

        static func frame(_ bytes: [UInt8]) -> TestSocket.Frame {
            let type = Int32(bitPattern: bytes[4..<8].reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
            return TestSocket.Frame(type: type, data: Array(bytes[8...]))
        }
    }
}

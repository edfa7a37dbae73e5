import Foundation
import NIOCore
import NSQBroker
import Testing
@testable import NSQ

/// Interop with pynsq, a third-party NSQ client, through Scripts/pynsq_reader.py and pynsq_writer.py.
enum Pynsq {
    static let scripts = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Scripts")

    /// True when `python3 -c 'import nsq, tornado'` succeeds.
    static let available: Bool = {
        guard let process = try? start(["-c", "import nsq, tornado"]) else { return false }
        process.waitUntilExit()
        return process.terminationStatus == 0
    }()

    static func start(_ arguments: [String], stdout: Pipe? = nil) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3"] + arguments
        process.standardOutput = stdout ?? FileHandle.nullDevice
        process.standardError = FileHandle.standardError
        try process.run()
        return process
    }

    /// Runs a script to completion (killing it after `timeout`) and returns its exit status and stdout.
    static func run(_ script: String, _ arguments: [String], timeout: Duration = .seconds(30)) async throws -> (Int32, String) {
        let pipe = Pipe()
        let process = try start([scripts.appendingPathComponent(script).path] + arguments, stdout: pipe)
        defer { if process.isRunning { process.terminate() } }
        // Read concurrently so a full pipe can never block the script.
        async let output = Task.detached { pipe.fileHandleForReading.readDataToEndOfFile() }.value
        try await waitUntil("\(script) to exit", timeout: timeout) { !process.isRunning }
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: await output, as: UTF8.self))
    }
}

@Suite(.enabled(if: Pynsq.available, "python3 with the pynsq (`nsq`) and tornado packages is not installed"),
       .timeLimit(.minutes(1)))
struct PynsqInteropTests {
    @Test func playcountProducerToPynsqReader() async throws {
        try await withBroker { broker in
            let producer = NSQProducer(address: broker.tcpAddressText)
            let sent = (0..<300).map { "swift-\($0) {\"video_id\":\"é\"}" }
            for body in sent.prefix(100) { try await producer.publish(topic: "interop1", body: body) }
            try await producer.multiPublish(topic: "interop1", bodies: sent[100..<200].map { ByteBuffer(string: $0) })
            try await producer.publishBatched(topic: "interop1", bodies: sent[200...].map { ByteBuffer(string: $0) }, batchCount: 30)
            await producer.close()
            let (status, output) = try await Pynsq.run(
                "pynsq_reader.py", [broker.tcpAddressText, "interop1", "py", "300", "--print", "--timeout", "20"])
            #expect(status == 0)
            let received = output.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
            #expect(received.count == 300)
            #expect(received.sorted() == sent.sorted())
            try await waitUntil("pynsq FIN'd everything") {
                let channel = await broker.channelStats(topic: "interop1", channel: "py")
                return channel?.depth == 0 && channel?.inFlightCount == 0 && channel?.messageCount == 300
            }
        }
    }

    @Test func pynsqWriterToPlaycountConsumer() async throws {
        try await withBroker { broker in
            try await withConsumer(.test(topic: "interop2", addresses: [broker.tcpAddressText])) { consumer, log in
                try await waitUntil("subscribed") { consumer.status().subscribedCount == 1 }
                let (status, _) = try await Pynsq.run("pynsq_writer.py", [broker.tcpAddressText, "interop2", "400", "py", "--timeout", "20"])
                #expect(status == 0)
                try await waitUntil("400 messages") { log.count >= 400 }
                #expect(log.count == 400)
                #expect(log.bodies.sorted() == (0..<400).map { "py-\($0)" }.sorted())
                try await waitUntil("finished") { consumer.status().finished == 400 }
            }
        }
    }
}

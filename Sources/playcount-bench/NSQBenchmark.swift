import ArgumentParser
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NSQ

/// `playcount-bench nsq`: publish N messages with NSQProducer, then drain them with NSQConsumer (FIN each).
struct NSQBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nsq",
        abstract: "Publish and drain messages through an nsqd-compatible broker; prints msgs/s.")

    enum Phase: String, ExpressibleByArgument, CaseIterable {
        case publish, drain, both
    }

    @Option(name: .customLong("nsqd-tcp-address"), help: "nsqd TCP address.")
    var nsqdTCPAddress = "127.0.0.1:4150"

    @Option(help: "Topic to publish to and drain.")
    var topic = "bench"

    @Option(help: "Channel to drain.")
    var channel = "bench"

    @Option(help: "Number of messages.")
    var count = 1_000_000

    @Option(help: "Body size in bytes.")
    var size = 100

    @Option(help: "Which phases to run.")
    var phase: Phase = .both

    @Option(name: .customLong("max-in-flight"), help: "Consumer max-in-flight.")
    var maxInFlight = 2500

    @Option(name: .customLong("batch"), help: "Messages per MPUB.")
    var batch = 500

    @Option(name: .customLong("output-buffer-timeout-ms"), help: "IDENTIFY output_buffer_timeout for the consumer (ms).")
    var outputBufferTimeoutMilliseconds = 25

    @Option(name: .customLong("output-buffer-size"), help: "IDENTIFY output_buffer_size for the consumer (bytes).")
    var outputBufferSize = 64 * 1024

    func validate() throws {
        guard count > 0, size > 0, batch > 0, maxInFlight > 0 else { throw ValidationError("counts and sizes must be positive") }
    }

    func run() async throws {
        if phase != .drain { try await publish() }
        if phase != .publish { try await drain() }
    }

    private func publish() async throws {
        let producer = NSQProducer(address: nsqdTCPAddress)
        var template = ByteBuffer(repeating: UInt8(ascii: "x"), count: size)
        template.setString("{\"video_id\":\"", at: 0)
        let bodies = (0..<count).lazy.map { _ in template }
        let start = ContinuousClock.now
        try await producer.publishBatched(topic: topic, bodies: bodies, batchCount: batch, maxOutstanding: 4)
        let elapsed = ContinuousClock.now - start
        await producer.close()
        report("publish", count: count, elapsed: elapsed)
    }

    private func drain() async throws {
        var configuration = NSQConsumerConfiguration(
            topic: topic, channel: channel, nsqdTCPAddresses: [nsqdTCPAddress], maxInFlight: maxInFlight,
            maxAttempts: 0, clientID: "bench", userAgent: "playcount-bench/1.0",
            outputBuffering: .buffered(size: outputBufferSize, timeout: .milliseconds(outputBufferTimeoutMilliseconds)))
        configuration.drainTimeout = .seconds(2)
        let consumer = NSQConsumer(configuration: configuration)
        let target = count
        let start = ContinuousClock.now
        let result = try await withThrowingTaskGroup(of: (Duration, Int)?.self) { group in
            group.addTask {
                try await consumer.run()
                return nil
            }
            group.addTask {
                var received = 0
                var deliveries = 0
                for await delivery in consumer.deliveries {
                    received += delivery.messages.count
                    deliveries += 1
                    delivery.finishAll()
                    if received >= target {
                        let elapsed = ContinuousClock.now - start
                        await consumer.stop()
                        return (elapsed, deliveries)
                    }
                }
                return nil
            }
            var outcome: (Duration, Int)?
            for try await result in group { if let result { outcome = result } }
            return outcome
        }
        guard let (elapsed, deliveries) = result else { throw ValidationError("drain ended before \(count) messages arrived") }
        let status = consumer.status()
        report("drain", count: status.received, elapsed: elapsed)
        print("drain: \(deliveries) deliveries, \(status.received / max(1, deliveries)) msgs per delivery on average, \(status.finished) finished")
    }

    private func report(_ what: String, count: Int, elapsed: Duration) {
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let rate = Double(count) / max(seconds, 1e-9)
        print("\(what): \(count) msgs in \(String(format: "%.3f", seconds)) s = \(Int(rate)) msgs/s")
    }
}

import NIOConcurrencyHelpers
import NIOCore
import NSQBroker
import Testing
@testable import NSQ

/// Waits until `condition` holds, checking every 10 ms, failing the test after `timeout`.
func waitUntil(
    _ what: String, timeout: Duration = .seconds(10),
    sourceLocation: SourceLocation = #_sourceLocation, _ condition: () async throws -> Bool
) async throws {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(10))
    }
    Issue.record("timed out waiting for \(what)", sourceLocation: sourceLocation)
    throw TimedOut(what: what)
}

struct TimedOut: Error { let what: String }

/// Starts an in-process broker on free ports, runs `body`, stops the broker.
func withBroker<T>(
    configure: (inout NSQBrokerConfiguration) -> Void = { _ in },
    _ body: (NSQBroker) async throws -> T
) async throws -> T {
    var configuration = NSQBrokerConfiguration(host: "127.0.0.1", tcpPort: 0, httpPort: 0)
    configure(&configuration)
    let broker = NSQBroker(configuration: configuration)
    try await broker.start()
    do {
        let result = try await body(broker)
        try await broker.stop()
        return result
    } catch {
        try? await broker.stop()
        throw error
    }
}

extension NSQBroker {
    var tcpAddressText: String { "127.0.0.1:\(tcpPort ?? 0)" }
    var httpAddressText: String { "127.0.0.1:\(httpPort ?? 0)" }

    func channelStats(topic: String, channel: String) async -> NSQBrokerStats.Channel? {
        await stats().topic(topic)?.channel(channel)
    }
}

/// Everything a consumer delivered, recorded from a task that drains `deliveries`.
final class DeliveryLog: Sendable {
    private let box = NIOLockedValueBox<[NSQMessage]>([])
    private let batches = NIOLockedValueBox(0)
    private let last = NIOLockedValueBox<NSQDelivery?>(nil)

    /// The most recent delivery.
    var lastDelivery: NSQDelivery? { last.withLockedValue { $0 } }

    var messages: [NSQMessage] { box.withLockedValue { $0 } }
    var count: Int { box.withLockedValue { $0.count } }
    var batchCount: Int { batches.withLockedValue { $0 } }
    var bodies: [String] { messages.map { String(buffer: $0.body) } }

    func record(_ delivery: NSQDelivery) {
        box.withLockedValue { $0.append(contentsOf: delivery.messages) }
        batches.withLockedValue { $0 += 1 }
        last.withLockedValue { $0 = delivery }
    }
}

/// Runs a consumer and a task draining its deliveries with `handle`, then stops it gracefully.
func withConsumer<T>(
    _ configuration: NSQConsumerConfiguration,
    onGiveUp: @escaping @Sendable (NSQMessage) -> Void = { _ in },
    handle: @escaping @Sendable (NSQDelivery, DeliveryLog) -> Void = { delivery, _ in delivery.finishAll() },
    _ body: (NSQConsumer, DeliveryLog) async throws -> T
) async throws -> T {
    let consumer = NSQConsumer(configuration: configuration, onGiveUp: onGiveUp)
    let log = DeliveryLog()
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await consumer.run() }
        group.addTask {
            for await delivery in consumer.deliveries {
                log.record(delivery)
                handle(delivery, log)
            }
        }
        do {
            let result = try await body(consumer, log)
            await consumer.stop()
            try await group.waitForAll()
            return result
        } catch {
            await consumer.stop()
            group.cancelAll()
            throw error
        }
    }
}

extension NSQConsumerConfiguration {
    /// Test settings: fast reconnects, unbuffered output so messages arrive at once.
    static func test(topic: String, channel: String = "ch", addresses: [String] = [], lookupd: [String] = [], maxInFlight: Int = 100) -> Self {
        var configuration = NSQConsumerConfiguration(
            topic: topic, channel: channel, nsqdTCPAddresses: addresses, lookupdHTTPAddresses: lookupd,
            maxInFlight: maxInFlight, clientID: "test", hostname: "test", outputBuffering: .buffered(size: 16 * 1024, timeout: .milliseconds(25)))
        configuration.reconnectInitialDelay = .milliseconds(50)
        configuration.reconnectMaxDelay = .milliseconds(400)
        configuration.lookupdPollInterval = .milliseconds(200)
        configuration.drainTimeout = .seconds(2)
        return configuration
    }
}

func bodies(_ count: Int, prefix: String = "m") -> [ByteBuffer] {
    (0..<count).map { ByteBuffer(string: "\(prefix)-\($0)") }
}

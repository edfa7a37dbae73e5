import NIOCore
import NSQBroker
import Testing
@testable import NSQ

@Suite(.timeLimit(.minutes(1))) struct ProducerIntegrationTests {
    @Test func publishesAreCountedByTheBroker() async throws {
        try await withBroker { broker in
            let producer = NSQProducer(address: broker.tcpAddressText)
            try await producer.publish(topic: "p", body: "one")
            try await producer.multiPublish(topic: "p", bodies: bodies(3))
            try await producer.deferredPublish(topic: "p", body: ByteBuffer(string: "later"), delay: .seconds(30))
            let topic = await broker.stats().topic("p")
            #expect(topic?.messageCount == 5)
            await producer.close()
        }
    }

    @Test func concurrentPublishesArePipelined() async throws {
        try await withBroker { broker in
            let producer = NSQProducer(address: broker.tcpAddressText)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<200 {
                    group.addTask { try await producer.publish(topic: "pipe", body: "m\(index)") }
                }
                try await group.waitForAll()
            }
            try await producer.publishBatched(topic: "pipe", bodies: bodies(10_000), batchCount: 300)
            #expect(await broker.stats().topic("pipe")?.messageCount == 10_200)
            await producer.close()
        }
    }

    @Test func serverErrorsAreTypedAndTheNextCallReconnects() async throws {
        try await withBroker(configure: { $0.maxMsgSize = 8 }) { broker in
            let producer = NSQProducer(address: broker.tcpAddressText)
            try await producer.publish(topic: "e", body: "small")
            do {
                try await producer.publish(topic: "e", body: "much too large")
                Issue.record("expected E_BAD_MESSAGE")
            } catch let error as NSQServerError {
                #expect(error.code == "E_BAD_MESSAGE")
                #expect(error.isFatal)
            }
            // nsqd closed the connection after the fatal error; the next call connects again.
            try await producer.publish(topic: "e", body: "ok")
            #expect(await broker.stats().topic("e")?.messageCount == 2)
            await producer.close()
        }
    }

    @Test func clientSideValidation() async throws {
        let producer = NSQProducer(address: "127.0.0.1:1")
        await #expect(throws: NSQClientError.invalidName("bad!topic")) { try await producer.publish(topic: "bad!topic", body: "x") }
        await #expect(throws: NSQClientError.emptyBody) { try await producer.publish(topic: "t", body: "") }
        await #expect(throws: (any Error).self) { try await producer.publish(topic: "t", body: "x") }
    }

    @Test func reconnectsAfterTheBrokerRestarts() async throws {
        var configuration = NSQBrokerConfiguration(host: "127.0.0.1", tcpPort: 0, httpPort: 0)
        let broker = NSQBroker(configuration: configuration)
        try await broker.start()
        configuration.tcpPort = try #require(broker.tcpPort)
        let producer = NSQProducer(address: "127.0.0.1:\(configuration.tcpPort)")
        try await producer.publish(topic: "r", body: "before")
        try await broker.stop()
        let restarted = NSQBroker(configuration: configuration)
        try await restarted.start()
        do {
            try await waitUntil("publish after restart") { (try? await producer.publish(topic: "r", body: "after")) != nil }
            #expect(await restarted.stats().topic("r")?.messageCount == 1)
        } catch {
            try? await restarted.stop()
            throw error
        }
        await producer.close()
        try await restarted.stop()
    }
}

import NIOConcurrencyHelpers
import NIOCore
import NSQBroker
import Testing
@testable import NSQ

/// Consumer and producer against the in-process broker on free ports.
@Suite(.timeLimit(.minutes(1))) struct ConsumerIntegrationTests {
    @Test func publishedMessagesArriveOnceAndAreFinished() async throws {
        try await withBroker { broker in
            let producer = NSQProducer(address: broker.tcpAddressText)
            try await producer.publish(topic: "plays", body: "first")
            try await producer.multiPublish(topic: "plays", bodies: [ByteBuffer(string: "second"), ByteBuffer(string: "third")])
            try await producer.deferredPublish(topic: "plays", body: ByteBuffer(string: "deferred"), delay: .milliseconds(200))
            try await withConsumer(.test(topic: "plays", addresses: [broker.tcpAddressText])) { consumer, log in
                try await waitUntil("4 messages") { log.count == 4 }
                #expect(Set(log.bodies) == ["first", "second", "third", "deferred"])
                #expect(log.messages.allSatisfy { $0.attempts == 1 })
                try await waitUntil("all finished on the broker") {
                    let channel = await broker.channelStats(topic: "plays", channel: "ch")
                    return channel?.inFlightCount == 0 && channel?.depth == 0 && channel?.deferredCount == 0
                }
                let status = consumer.status()
                #expect(status.received == 4 && status.finished == 4 && status.inFlight == 0)
                #expect(status.connections.map(\.state) == [.subscribed])
            }
            await producer.close()
        }
    }

    @Test func onDeliveryReceivesEveryBurstInsteadOfTheStream() async throws {
        try await withBroker { broker in
            let producer = NSQProducer(address: broker.tcpAddressText)
            try await producer.multiPublish(topic: "plays", bodies: bodies(500))
            let log = DeliveryLog()
            let consumer = NSQConsumer(
                configuration: .test(topic: "plays", addresses: [broker.tcpAddressText]),
                onDelivery: { delivery in
                    log.record(delivery)
                    delivery.finishAll()
                })
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await consumer.run() }
                try await waitUntil("500 messages") { log.count == 500 }
                await consumer.stop()
                try await group.waitForAll()
            }
            #expect(log.bodies == (0..<500).map { "m-\($0)" })
            // The stream carried nothing and was finished when run() returned.
            var streamed = 0
            for await _ in consumer.deliveries { streamed += 1 }
            #expect(streamed == 0)
            let channel = await broker.channelStats(topic: "plays", channel: "ch")
            #expect(channel?.inFlightCount == 0 && channel?.depth == 0)
            await producer.close()
        }
    }

    @Test func pausedConnectionLeavesWhatNsqdSentUnreadUntilResumed() async throws {
        try await withBroker { broker in
            let producer = NSQProducer(address: broker.tcpAddressText)
            try await producer.publish(topic: "plays", body: "first")
            let log = DeliveryLog()
            var configuration = NSQConsumerConfiguration.test(topic: "plays", addresses: [broker.tcpAddressText])
            configuration.pauseReadingAfterDelivery = true
            let consumer = NSQConsumer(configuration: configuration, onDelivery: { log.record($0) })
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await consumer.run() }
                try await waitUntil("the first delivery") { log.count == 1 }
                // More arrive while the first delivery is being handled: nsqd sends them (they are in flight
                // on the broker), but the paused connection does not read them.
                try await producer.multiPublish(topic: "plays", bodies: bodies(20))
                try await waitUntil("nsqd sent all 21") {
                    await broker.channelStats(topic: "plays", channel: "ch")?.inFlightCount == 21
                }
                #expect(consumer.status().received == 1 && log.batchCount == 1)
                // Resumed: everything waiting in the socket is read, as one delivery.
                let first = try #require(log.lastDelivery)
                first.finishAll()
                first.connection.resumeReading()
                try await waitUntil("the other 20") { log.count == 21 }
                #expect(log.batchCount == 2)
                log.lastDelivery?.finishAll()
                await consumer.stop()
                try await group.waitForAll()
            }
            await producer.close()
        }
    }

    @Test func waitUntilSubscribedAnswersForEveryConfiguredBroker() async throws {
        try await withBroker { broker in
            // A port nothing listens on: a broker's, once stopped.
            let gone = NSQBroker(configuration: NSQBrokerConfiguration(host: "127.0.0.1", tcpPort: 0, httpPort: 0))
            try await gone.start()
            let closedPort = try #require(gone.tcpPort)
            try await gone.stop()
            let consumer = NSQConsumer(configuration: .test(topic: "plays", addresses: [broker.tcpAddressText]))
            let unreachable = NSQConsumer(
                configuration: .test(topic: "plays", addresses: [broker.tcpAddressText, "127.0.0.1:\(closedPort)"]))
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await consumer.run() }
                group.addTask { try await unreachable.run() }
                #expect(await consumer.waitUntilSubscribed(timeout: .seconds(10)))
                // One of its two brokers never answers: not all subscribed when the time is up.
                #expect(await !unreachable.waitUntilSubscribed(timeout: .milliseconds(300)))
                await consumer.stop()
                await unreachable.stop()
                try await group.waitForAll()
            }
        }
    }

    @Test func requeueWithDelayRedeliversWithAttemptTwo() async throws {
        try await withBroker { broker in
            let producer = NSQProducer(address: broker.tcpAddressText)
            try await producer.publish(topic: "req", body: "again")
            let firstSeen = NIOLockedValueBox<ContinuousClock.Instant?>(nil)
            try await withConsumer(.test(topic: "req", addresses: [broker.tcpAddressText]), handle: { delivery, _ in
                for message in delivery.messages {
                    if message.attempts == 1 {
                        firstSeen.withLockedValue { $0 = .now }
                        delivery.requeue(message.id, delay: .milliseconds(300))
                    } else {
                        delivery.finish(message.id)
                    }
                }
            }) { consumer, log in
                try await waitUntil("redelivery") { log.count == 2 }
                let elapsed = ContinuousClock.now - (firstSeen.withLockedValue { $0 } ?? .now)
                #expect(log.messages.map(\.attempts) == [1, 2])
                #expect(log.messages[0].id == log.messages[1].id)
                #expect(log.messages[0].timestamp == log.messages[1].timestamp, "the timestamp survives requeues")
                #expect(elapsed >= .milliseconds(250))
                try await waitUntil("finished") { consumer.status().finished == 1 }
                #expect(consumer.status().requeued == 1)
            }
            await producer.close()
        }
    }

    @Test func unfinishedMessageTimesOutAndComesBack() async throws {
        try await withBroker(configure: { $0.msgTimeout = .milliseconds(400) }) { broker in
            try await broker.publish(topic: "slow", bodies: [ByteBuffer(string: "slow")])
            try await withConsumer(.test(topic: "slow", addresses: [broker.tcpAddressText]), handle: { delivery, _ in
                // Ignore the first delivery: nsqd must time it out and send it again.
                for message in delivery.messages where message.attempts > 1 { delivery.finish(message.id) }
            }) { _, log in
                try await waitUntil("timeout redelivery") { log.count >= 2 }
                // On a loaded machine a FIN can itself miss the short timeout; attempts still count up.
                #expect(Array(log.messages.map(\.attempts).prefix(2)) == [1, 2])
                #expect(log.messages.map(\.attempts) == (1...UInt16(log.count)).map { $0 })
                try await waitUntil("settled") {
                    let channel = await broker.channelStats(topic: "slow", channel: "ch")
                    return channel?.inFlightCount == 0 && channel?.clients.first?.finishCount == 1
                }
                #expect(await broker.channelStats(topic: "slow", channel: "ch")?.timeoutCount == UInt64(log.count - 1))
            }
        }
    }

    @Test func messagesBeyondMaxAttemptsGoToTheHook() async throws {
        try await withBroker { broker in
            try await broker.publish(topic: "poison", bodies: [ByteBuffer(string: "poison"), ByteBuffer(string: "fine")])
            let gaveUp = NIOLockedValueBox<[NSQMessage]>([])
            var configuration = NSQConsumerConfiguration.test(topic: "poison", addresses: [broker.tcpAddressText])
            configuration.maxAttempts = 2
            configuration.requeueDelay = .milliseconds(100)
            let started = ContinuousClock.now
            try await withConsumer(configuration, onGiveUp: { message in gaveUp.withLockedValue { $0.append(message) } }, handle: { delivery, _ in
                for message in delivery.messages {
                    // Growing delay: 100 ms after attempt 1, 200 ms after attempt 2.
                    if String(buffer: message.body) == "poison" { delivery.requeue(message) } else { delivery.finish(message.id) }
                }
            }) { consumer, log in
                try await waitUntil("give-up hook") { gaveUp.withLockedValue { $0.count } == 1 }
                #expect(ContinuousClock.now - started >= .milliseconds(280))
                #expect(gaveUp.withLockedValue { $0.map(\.attempts) } == [3])
                #expect(gaveUp.withLockedValue { $0.map { String(buffer: $0.body) } } == ["poison"])
                #expect(log.messages.filter { String(buffer: $0.body) == "poison" }.map(\.attempts) == [1, 2])
                try await waitUntil("poison finished on the broker") {
                    let channel = await broker.channelStats(topic: "poison", channel: "ch")
                    return channel?.inFlightCount == 0 && channel?.depth == 0
                }
                try await waitUntil("give-up counted") { consumer.status().gaveUp == 1 }
            }
        }
    }

    @Test func readyIsSpreadOverTwoBrokers() async throws {
        try await withBroker { first in
            try await withBroker { second in
                let addresses = [first.tcpAddressText, second.tcpAddressText]
                try await withConsumer(.test(topic: "spread", addresses: addresses, maxInFlight: 11)) { consumer, log in
                    try await waitUntil("both subscribed") { consumer.status().subscribedCount == 2 }
                    try await waitUntil("RDY sent to both") {
                        let firstReady = await first.channelStats(topic: "spread", channel: "ch")?.clients.first?.readyCount
                        let secondReady = await second.channelStats(topic: "spread", channel: "ch")?.clients.first?.readyCount
                        return firstReady.map { $0 > 0 } == true && secondReady.map { $0 > 0 } == true
                    }
                    let firstReady = await first.channelStats(topic: "spread", channel: "ch")?.clients.first?.readyCount ?? 0
                    let secondReady = await second.channelStats(topic: "spread", channel: "ch")?.clients.first?.readyCount ?? 0
                    #expect(firstReady + secondReady == 11)
                    #expect(Set([firstReady, secondReady]) == [5, 6])
                    #expect(consumer.status().ready == 11)
                    try await first.publish(topic: "spread", bodies: bodies(50, prefix: "a"))
                    try await second.publish(topic: "spread", bodies: bodies(50, prefix: "b"))
                    try await waitUntil("100 messages") { log.count == 100 }
                    #expect(Set(log.bodies).count == 100)
                }
            }
        }
    }

    @Test func discoversBrokerThroughLookupd() async throws {
        try await withBroker { broker in
            try await broker.create(topic: "found", channel: "ch")
            try await broker.publish(topic: "found", bodies: bodies(3))
            try await withConsumer(.test(topic: "found", lookupd: [broker.httpAddressText])) { consumer, log in
                try await waitUntil("3 messages via lookupd") { log.count == 3 }
                #expect(consumer.status().connections.map(\.address) == [broker.tcpAddressText])
            }
        }
    }

    @Test func lookupdFindsATopicCreatedAfterTheConsumerStarted() async throws {
        try await withBroker { broker in
            try await withConsumer(.test(topic: "later", lookupd: [broker.httpAddressText])) { consumer, log in
                // /lookup answers 404 TOPIC_NOT_FOUND for now: no connection yet.
                #expect(consumer.status().connections.isEmpty)
                try await broker.publish(topic: "later", bodies: [ByteBuffer(string: "hello")])
                try await waitUntil("discovered on a later poll") { log.count == 1 }
                #expect(log.bodies == ["hello"])
            }
        }
    }

    @Test func reconnectsWhenTheBrokerRestartsOnTheSamePort() async throws {
        var configuration = NSQBrokerConfiguration(host: "127.0.0.1", tcpPort: 0, httpPort: 0)
        let broker = NSQBroker(configuration: configuration)
        try await broker.start()
        let tcpPort = try #require(broker.tcpPort)
        configuration.tcpPort = tcpPort
        let address = "127.0.0.1:\(tcpPort)"
        try await withConsumer(.test(topic: "restart", addresses: [address])) { consumer, log in
            try await waitUntil("subscribed") { consumer.status().subscribedCount == 1 }
            try await broker.publish(topic: "restart", bodies: [ByteBuffer(string: "before")])
            try await waitUntil("first message") { log.count == 1 }
            try await broker.stop()
            try await waitUntil("connection lost") { consumer.status().subscribedCount == 0 }
            // Let a few reconnect attempts fail against the closed port before the broker returns.
            try await waitUntil("backing off") { consumer.status().connections.first?.state == .backingOff }
            let restarted = NSQBroker(configuration: configuration)
            try await restarted.start()
            do {
                try await waitUntil("reconnected") { consumer.status().subscribedCount == 1 }
                try await waitUntil("reconnect counted") { consumer.status().reconnects == 1 }
                try await restarted.publish(topic: "restart", bodies: [ByteBuffer(string: "after")])
                try await waitUntil("message after restart") { log.count == 2 }
                #expect(log.bodies == ["before", "after"])
            } catch {
                try? await restarted.stop()
                throw error
            }
            await consumer.stop()
            try await restarted.stop()
        }
    }

    @Test func heartbeatsAreAnsweredAndKeepTheConnection() async throws {
        try await withBroker { broker in
            var configuration = NSQConsumerConfiguration.test(topic: "beat", addresses: [broker.tcpAddressText])
            configuration.heartbeatInterval = .seconds(1)
            try await withConsumer(configuration) { consumer, _ in
                try await waitUntil("subscribed") { consumer.status().subscribedCount == 1 }
                let client = await broker.channelStats(topic: "beat", channel: "ch")?.clients.first?.remoteAddress
                // nsqd closes a client after two unanswered heartbeats; three answered ones prove the NOPs work.
                try await waitUntil("three heartbeats", timeout: .seconds(15)) { (consumer.status().connections.first?.heartbeats ?? 0) >= 3 }
                #expect(consumer.status().reconnects == 0)
                #expect(consumer.status().subscribedCount == 1)
                #expect(await broker.channelStats(topic: "beat", channel: "ch")?.clients.map(\.remoteAddress) == [client].compactMap { $0 })
            }
        }
    }

    @Test func stopWaitsForInFlightMessagesToSettle() async throws {
        try await withBroker { broker in
            try await broker.publish(topic: "drain", bodies: bodies(5))
            let held = NIOLockedValueBox<[NSQDelivery]>([])
            let consumer = NSQConsumer(configuration: .test(topic: "drain", addresses: [broker.tcpAddressText]))
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await consumer.run() }
                group.addTask {
                    // Hold messages; finish them only after stop() was called.
                    for await delivery in consumer.deliveries { held.withLockedValue { $0.append(delivery) } }
                }
                try await waitUntil("5 held") { held.withLockedValue { $0.flatMap(\.messages).count } == 5 }
                async let stopped: Void = consumer.stop()
                try await waitUntil("closing") { consumer.status().connections.first?.state == .closing }
                #expect(consumer.status().inFlight == 5)
                for delivery in held.withLockedValue({ $0 }) { delivery.finishAll() }
                await stopped
                try await group.waitForAll()
            }
            let status = consumer.status()
            #expect(status.finished == 5)
            #expect(status.connections.first?.state == .stopped)
            try await waitUntil("broker saw every FIN") {
                await broker.channelStats(topic: "drain", channel: "ch")?.inFlightCount == 0
            }
            #expect(await broker.channelStats(topic: "drain", channel: "ch")?.requeueCount == 0)
        }
    }

    @Test func stopBeforeRunEndsDeliveriesAndRunRefusesToStart() async {
        let consumer = NSQConsumer(configuration: .test(topic: "t", addresses: ["127.0.0.1:1"]))
        await consumer.stop()
        var iterator = consumer.deliveries.makeAsyncIterator()
        #expect(await iterator.next() == nil)
        await #expect(throws: NSQClientError.self) { try await consumer.run() }
    }

    @Test func cancellingRunStopsGracefully() async throws {
        try await withBroker { broker in
            let consumer = NSQConsumer(configuration: .test(topic: "cancel", addresses: [broker.tcpAddressText]))
            let running = Task { try await consumer.run() }
            try await waitUntil("subscribed") { consumer.status().subscribedCount == 1 }
            running.cancel()
            try await running.value
            #expect(consumer.status().connections.first?.state == .stopped)
            var iterator = consumer.deliveries.makeAsyncIterator()
            #expect(await iterator.next() == nil)
        }
    }

    @Test func invalidConfigurationIsRejected() async {
        let consumer = NSQConsumer(configuration: .test(topic: "bad!topic", addresses: ["127.0.0.1:1"]))
        await #expect(throws: NSQClientError.invalidName("bad!topic")) { try await consumer.run() }
        let noAddress = NSQConsumer(configuration: .test(topic: "t"))
        await #expect(throws: NSQClientError.self) { try await noAddress.run() }
    }
}

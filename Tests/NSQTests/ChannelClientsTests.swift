import NSQBroker
import Testing
@testable import NSQ

/// `NSQDHTTPAPI.channelClients`: who is subscribed to a channel, read from nsqd's `/stats` (what `start` checks
/// before it joins a channel).
@Suite(.timeLimit(.minutes(1))) struct ChannelClientsTests {
    @Test func aSubscribedConsumerIsListedWithItsIdentityAndOtherChannelsAreNot() async throws {
        try await withBroker { broker in
            let producer = NSQProducer(address: broker.tcpAddressText)
            try await producer.publish(topic: "plays", body: "one")
            #expect(try await NSQDHTTPAPI.channelClients(
                topic: "plays", channel: "ch", nsqdHTTPAddress: broker.httpAddressText).isEmpty)
            var configuration = NSQConsumerConfiguration.test(topic: "plays", addresses: [broker.tcpAddressText])
            configuration.userAgent = "ownership-test/1.0"
            try await withConsumer(configuration) { consumer, log in
                try await waitUntil("the delivery") { log.count == 1 }
                let clients = try await NSQDHTTPAPI.channelClients(
                    topic: "plays", channel: "ch", nsqdHTTPAddress: broker.httpAddressText)
                #expect(clients.count == 1)
                #expect(clients.first?.userAgent == "ownership-test/1.0")
                #expect(clients.first?.clientID == configuration.clientID)
                #expect(clients.first?.remoteAddress.hasPrefix("127.0.0.1:") == true)
                #expect(clients.first?.description.contains("ownership-test/1.0 \"\(configuration.clientID)\"") == true)
                #expect(try await NSQDHTTPAPI.channelClients(
                    topic: "plays", channel: "other", nsqdHTTPAddress: broker.httpAddressText).isEmpty)
                #expect(try await NSQDHTTPAPI.channelClients(
                    topic: "nope", channel: "ch", nsqdHTTPAddress: broker.httpAddressText).isEmpty)
            }
            await producer.close()
        }
    }
}

import DequeModule
import NIOCore

/// A topic: messages published to it are copied to every channel; with no channel yet they wait here
/// (nsqd's topic message pump only runs once a channel exists).
final class BrokerTopic {
    let name: String
    let isEphemeral: Bool
    unowned let core: BrokerCore

    private(set) var channels: [String: BrokerChannel] = [:]
    /// Messages published while the topic had no channel, with their DPUB delay.
    private(set) var waiting = Deque<(message: BrokerMessage, delay: TimeAmount)>()
    private(set) var messageCount: UInt64 = 0
    private(set) var messageBytes: UInt64 = 0

    init(name: String, core: BrokerCore) {
        self.name = name
        self.isEphemeral = name.hasSuffix("#ephemeral")
        self.core = core
    }

    /// The channel, created if needed; the first channel receives the messages waiting in the topic.
    func channel(named name: String) -> BrokerChannel {
        if let channel = channels[name] { return channel }
        let channel = BrokerChannel(name: name, topic: self)
        let isFirst = channels.isEmpty
        channels[name] = channel
        if isFirst, !waiting.isEmpty {
            let messages = waiting
            waiting.removeAll()
            for entry in messages { channel.putPublished(entry.message, delay: entry.delay) }
        }
        return channel
    }

    func existingChannel(named name: String) -> BrokerChannel? { channels[name] }

    func deleteChannel(named name: String) {
        guard let channel = channels[name] else { return }
        deleteChannel(channel)
    }

    /// Removes this very channel (not a newer one of the same name) and disconnects its clients;
    /// an ephemeral topic goes away with its last channel.
    func deleteChannel(_ channel: BrokerChannel) {
        guard channels[channel.name] === channel else { return }
        channels[channel.name] = nil
        channel.closeClients()
        if isEphemeral, channels.isEmpty { core.deleteTopic(self) }
    }

    /// Publishes messages (already stamped with id and timestamp) to every channel, then delivers.
    func publish(_ messages: [BrokerMessage], delay: TimeAmount = .zero) {
        messageCount &+= UInt64(messages.count)
        for message in messages { messageBytes &+= UInt64(message.body.readableBytes) }
        if channels.isEmpty {
            for message in messages { waiting.append((message, delay)) }
            return
        }
        for channel in channels.values {
            for message in messages { channel.putPublished(message, delay: delay) }
            channel.dispatch()
        }
    }

    /// Drops the messages waiting in the topic itself (nsqd's `/topic/empty`).
    func empty() { waiting.removeAll() }

    func closeAll() {
        for channel in channels.values { channel.closeClients() }
    }
}

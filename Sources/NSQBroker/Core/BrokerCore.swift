import NIOCore
import NSQ

/// The broker's whole state: topics, channels, clients, timers.
///
/// Confined to one event loop: every TCP and HTTP connection of the broker runs on that loop, so no
/// locks are needed and a delivery burst is one synchronous pass. Each client flushes its output by nsqd's
/// rules as it is written (see ``ClientConnection``).
final class BrokerCore {
    let configuration: NSQBrokerConfiguration
    let eventLoop: any EventLoop
    /// Seconds since the epoch, for `/info` and `/stats`.
    let startTime: Int64

    private(set) var topics: [String: BrokerTopic] = [:]
    private(set) var clients: [Int64: ClientConnection] = [:]
    private var nextClientID: Int64 = 1
    private var idGenerator: MessageIDGenerator
    private var scanTask: Scheduled<Void>?
    private(set) var isStopped = false

    /// Ports actually bound (set by ``NSQBroker/start()``).
    var tcpPort: Int = 0
    var httpPort: Int = 0

    init(configuration: NSQBrokerConfiguration, eventLoop: any EventLoop) {
        self.configuration = configuration
        self.eventLoop = eventLoop
        let now = WallClock.nanoseconds()
        self.startTime = now / 1_000_000_000
        self.idGenerator = MessageIDGenerator(seed: UInt64(now / 1_000_000))
    }

    // MARK: Topics

    func topic(named name: String) -> BrokerTopic {
        if let topic = topics[name] { return topic }
        let topic = BrokerTopic(name: name, core: self)
        topics[name] = topic
        return topic
    }

    func existingTopic(named name: String) -> BrokerTopic? { topics[name] }

    func deleteTopic(named name: String) {
        guard let topic = topics[name] else { return }
        deleteTopic(topic)
    }

    /// Removes this very topic (not a newer one of the same name) and disconnects its subscribers.
    func deleteTopic(_ topic: BrokerTopic) {
        guard topics[topic.name] === topic else { return }
        topics[topic.name] = nil
        topic.closeAll()
    }

    /// Stamps bodies with ids and the publish time and publishes them.
    func publish(topic name: String, bodies: [ByteBuffer], delay: TimeAmount = .zero) {
        let timestamp = WallClock.nanoseconds()
        var messages: [BrokerMessage] = []
        messages.reserveCapacity(bodies.count)
        for body in bodies {
            messages.append(BrokerMessage(id: idGenerator.make(), timestamp: timestamp, attempts: 0, body: body))
        }
        topic(named: name).publish(messages, delay: delay)
    }

    // MARK: Clients

    func register(_ client: ClientConnection) -> Int64 {
        let id = nextClientID
        nextClientID += 1
        clients[id] = client
        return id
    }

    func unregister(_ client: ClientConnection) {
        clients[client.id] = nil
    }

    // MARK: Timeouts and deferred messages

    /// Starts the periodic queue scan if it is not running.
    func ensureScanning() {
        guard scanTask == nil, !isStopped else { return }
        scheduleScan()
    }

    private func scheduleScan() {
        scanTask = eventLoop.assumeIsolated().scheduleTask(in: configuration.queueScanInterval) { [self] in
            scanTask = nil
            let now = NIODeadline.now()
            var stillBusy = false
            for topic in topics.values {
                for channel in topic.channels.values {
                    channel.scan(now: now)
                    if channel.hasTimedWork { stillBusy = true }
                }
            }
            if stillBusy, !isStopped { scheduleScan() }
        }
    }

    // MARK: Lifecycle

    func stop() {
        isStopped = true
        scanTask?.cancel()
        scanTask = nil
        for client in Array(clients.values) { client.closeConnection() }
    }

    // MARK: Stats

    func stats(topicFilter: String? = nil, channelFilter: String? = nil) -> NSQBrokerStats {
        var topicStats: [NSQBrokerStats.Topic] = []
        for name in topics.keys.sorted() where topicFilter == nil || topicFilter == name {
            guard let topic = topics[name] else { continue }
            var channelStats: [NSQBrokerStats.Channel] = []
            for channelName in topic.channels.keys.sorted() where channelFilter == nil || channelFilter == channelName {
                guard let channel = topic.channels[channelName] else { continue }
                channelStats.append(NSQBrokerStats.Channel(
                    name: channelName, depth: channel.queue.count, inFlightCount: channel.inFlight.count,
                    deferredCount: channel.deferred.count, messageCount: channel.messageCount,
                    requeueCount: channel.requeueCount, timeoutCount: channel.timeoutCount,
                    clients: channel.clients.map(\.stats)))
            }
            topicStats.append(NSQBrokerStats.Topic(
                name: name, depth: topic.waiting.count, messageCount: topic.messageCount,
                messageBytes: topic.messageBytes, channels: channelStats))
        }
        let producers = clients.keys.sorted().compactMap { id -> NSQBrokerStats.Client? in
            guard let client = clients[id], client.hasPublished, client.subscribedChannel == nil else { return nil }
            return client.stats
        }
        return NSQBrokerStats(topics: topicStats, producers: producers, startTime: startTime)
    }
}

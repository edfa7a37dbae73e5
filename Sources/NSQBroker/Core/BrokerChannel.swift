import DequeModule
import NIOCore
import NSQ

/// One channel of a topic: its own copy of every message, shared among its subscribed clients.
///
/// Loop-confined (all access on the broker's event loop). Follows nsqd's `channel.go`: messages wait in
/// `queue`, go in flight to a ready client (attempts + 1), and leave by FIN, REQ (now or deferred) or
/// timeout (requeued, `timeout_count`). A client's disconnect does not requeue its in-flight messages:
/// as in nsqd, they come back when they time out.
final class BrokerChannel {
    let name: String
    let isEphemeral: Bool
    /// Weak: a deleted topic's channel may outlive it briefly, held by a closing client.
    weak var topic: BrokerTopic?
    /// The core outlives every channel: channels are reachable only from it or from its connections,
    /// which hold it strongly.
    unowned let core: BrokerCore

    private(set) var queue = Deque<BrokerMessage>()
    private(set) var inFlight: [NSQMessageID: InFlightMessage] = [:]
    private(set) var deferred: [NSQMessageID: DeferredMessage] = [:]
    private(set) var clients: [ClientConnection] = []
    private var nextClientIndex = 0

    private(set) var messageCount: UInt64 = 0
    private(set) var requeueCount: UInt64 = 0
    private(set) var timeoutCount: UInt64 = 0

    init(name: String, topic: BrokerTopic) {
        self.name = name
        self.isEphemeral = name.hasSuffix("#ephemeral")
        self.topic = topic
        self.core = topic.core
    }

    var hasTimedWork: Bool { !inFlight.isEmpty || !deferred.isEmpty }

    // MARK: Putting messages

    /// A message published to the topic reaching this channel (counted in `message_count`).
    func putPublished(_ message: BrokerMessage, delay: TimeAmount) {
        messageCount &+= 1
        if delay > .zero {
            startDeferred(message, delay: delay)
        } else {
            queue.append(message)
        }
    }

    private func startDeferred(_ message: BrokerMessage, delay: TimeAmount) {
        deferred[message.id] = DeferredMessage(message: message, due: .now() + delay)
        core.ensureScanning()
    }

    // MARK: Clients

    func addClient(_ client: ClientConnection) {
        guard !clients.contains(where: { $0 === client }) else { return }
        clients.append(client)
        dispatch()
    }

    func removeClient(_ client: ClientConnection) {
        clients.removeAll { $0 === client }
        if isEphemeral, clients.isEmpty {
            topic?.deleteChannel(self)
        }
    }

    /// Hands queued messages to ready clients, round-robin, until the queue is empty or nobody is ready.
    func dispatch() {
        guard !queue.isEmpty, !clients.isEmpty else { return }
        let now = NIODeadline.now()
        var idle = 0
        while !queue.isEmpty, idle < clients.count {
            if nextClientIndex >= clients.count { nextClientIndex = 0 }
            let client = clients[nextClientIndex]
            nextClientIndex += 1
            guard client.isReadyForMessages else {
                idle += 1
                continue
            }
            idle = 0
            var message = queue.removeFirst()
            // nsqd's sample_rate: a sampled-out message is consumed without being delivered.
            if client.sampleRate > 0, Int32.random(in: 0..<100) > client.sampleRate { continue }
            message.attempts &+= 1
            inFlight[message.id] = InFlightMessage(
                message: message, clientID: client.id,
                deliveredAt: now, deadline: now + client.messageTimeout)
            client.deliver(message)
        }
        if !inFlight.isEmpty { core.ensureScanning() }
    }

    // MARK: FIN, REQ, TOUCH

    /// Removes a message from flight if this client owns it; otherwise nsqd's reason text.
    private func popInFlight(_ id: NSQMessageID, clientID: Int64) -> (entry: InFlightMessage?, refusal: String?) {
        guard let entry = inFlight[id] else { return (nil, "ID not in flight") }
        guard entry.clientID == clientID else { return (nil, "client does not own message") }
        inFlight[id] = nil
        return (entry, nil)
    }

    /// FIN; nil on success, else nsqd's reason text.
    func finish(_ id: NSQMessageID, clientID: Int64) -> String? {
        popInFlight(id, clientID: clientID).refusal
    }

    /// REQ with a delay (zero: back to the end of the queue now).
    func requeue(_ id: NSQMessageID, clientID: Int64, delay: TimeAmount) -> String? {
        let (entry, refusal) = popInFlight(id, clientID: clientID)
        guard let entry else { return refusal }
        requeueCount &+= 1
        if delay > .zero {
            startDeferred(entry.message, delay: delay)
        } else {
            queue.append(entry.message)
        }
        return nil
    }

    /// TOUCH: restarts the message timeout, never beyond max_msg_timeout after delivery.
    func touch(_ id: NSQMessageID, clientID: Int64, timeout: TimeAmount) -> String? {
        guard var entry = inFlight[id] else { return "ID not in flight" }
        guard entry.clientID == clientID else { return "client does not own message" }
        var deadline = NIODeadline.now() + timeout
        let limit = entry.deliveredAt + core.configuration.maxMsgTimeout
        if deadline >= limit { deadline = limit }
        entry.deadline = deadline
        inFlight[id] = entry
        return nil
    }

    // MARK: Timers

    /// Requeues timed-out messages and releases due deferred ones (nsqd's queue scan). Returns whether
    /// anything moved to the queue.
    @discardableResult
    func scan(now: NIODeadline) -> Bool {
        var moved = false
        if !inFlight.isEmpty {
            var expired: [InFlightMessage] = []
            for entry in inFlight.values where entry.deadline <= now { expired.append(entry) }
            for entry in expired {
                inFlight[entry.message.id] = nil
                timeoutCount &+= 1
                // The owner may have disconnected; its messages still time out, as in nsqd.
                core.clients[entry.clientID]?.messageTimedOut()
                queue.append(entry.message)
                moved = true
            }
        }
        if !deferred.isEmpty {
            var due: [DeferredMessage] = []
            for entry in deferred.values where entry.due <= now { due.append(entry) }
            due.sort { $0.due < $1.due }
            for entry in due {
                deferred[entry.message.id] = nil
                queue.append(entry.message)
                moved = true
            }
        }
        if moved { dispatch() }
        return moved
    }

    /// Drops every message (nsqd's `/channel/empty`): queue, in flight and deferred.
    func empty() {
        queue.removeAll()
        inFlight.removeAll()
        deferred.removeAll()
        for client in clients { client.emptied() }
    }

    /// Disconnects every subscribed client (channel or topic deleted).
    func closeClients() {
        for client in clients { client.closeConnection() }
        clients.removeAll()
    }
}

import ArgumentParser
import Foundation
import NSQ
import NSQBroker
import PlayCounts
import PlayService
import ShellKit

/// `status`: processor state, NSQ connections and queue depth, held videos, client health.
struct StatusCommand: ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show the processor, its NSQ connections, the queue and the client.")

    @OptionGroup var output: OutputOptions

    func run(in shell: ShellContext) async throws {
        let report = await StatusReport.gather(in: shell)
        try shell.report(report, json: output.json) { $0.tables }
    }
}

/// Everything `status` shows; also what `wait drained` checks.
struct StatusReport: Encodable {
    struct Connection: Encodable {
        let address: String
        /// "live" or "catch-up": which of the nsqd's two connections this is.
        let role: String
        let state: String
        let ready: Int
        let inFlight: Int
        let received: Int
        let finished: Int
        let requeued: Int
        let reconnects: Int
        /// TOUCHes sent to keep held messages from timing out.
        let touched: Int
        let lastError: String?
    }

    struct Queue: Encodable {
        let topic: String
        let channel: String
        /// Messages waiting in the topic (no channel yet) plus in the channel.
        let depth: Int
        let inFlight: Int
        let deferred: Int
    }

    let processor: String
    /// `k/K` for a partition's owner (it reads `<topic>.p<k>`); nil for a processor of the whole topic.
    let partition: String?
    let broker: String
    let connections: [Connection]
    /// Only known for the embedded broker.
    let queue: Queue?
    /// True while read batches wait for or are in the processor.
    let processing: Bool
    let processorStatus: ProcessorStatus?
    /// The state file of the current (or last) run.
    let state: String?
    let deadLetterTopic: String?
    let counters: SessionCounters?

    static func gather(in shell: ShellContext) async -> StatusReport {
        let session = shell.app.latestSession
        let running = shell.app.session != nil
        var queue: Queue?
        let brokerText: String
        if let broker = shell.app.broker.running {
            brokerText = "embedded: TCP \(broker.tcpAddressText) HTTP \(broker.httpAddressText)"
            let topicName = shell.settings.consumedTopic
            let channelName = shell.settings[.channel]
            let topic = await broker.stats().topic(topicName)
            let channel = topic?.channel(channelName)
            queue = Queue(
                topic: topicName, channel: channelName,
                depth: (topic?.depth ?? 0) + (channel?.depth ?? 0),
                inFlight: channel?.inFlightCount ?? 0, deferred: channel?.deferredCount ?? 0)
        } else {
            let nsqd = addressList(shell.settings[.nsqdTCPAddress])
            let lookupd = addressList(shell.settings[.lookupdHTTPAddress])
            brokerText = nsqd.isEmpty && lookupd.isEmpty
                ? "embedded: not started"
                : "external: " + (nsqd + lookupd.map { "lookupd \($0)" }).joined(separator: ", ")
            queue = await externalQueue(in: shell)
        }
        let connections = (running ? session?.consumer.status().connections : nil) ?? []
        return StatusReport(
            processor: running ? "running" : (session == nil ? "not started" : "stopped"),
            partition: (session?.configuration.partition ?? shell.settings.ownedPartition)?.description,
            broker: brokerText,
            connections: connections.map {
                Connection(
                    address: $0.address, role: $0.role.rawValue, state: $0.state.rawValue, ready: $0.ready,
                    inFlight: $0.inFlight, received: $0.received, finished: $0.finished, requeued: $0.requeued,
                    reconnects: $0.reconnects, touched: $0.touched, lastError: $0.lastError)
            },
            queue: queue,
            processing: running && session?.isProcessing == true,
            processorStatus: await session?.processor.status(),
            state: session?.store.path,
            deadLetterTopic: session?.deadLetters.topic,
            counters: session?.counters)
    }

    /// The backlog summed over the external nsqd instances whose HTTP API is known: the `nsqd-http-address`
    /// setting, or the `http_port` lookupd lists. nil when none is known or one does not answer.
    private static func externalQueue(in shell: ShellContext) async -> Queue? {
        let topic = shell.settings.consumedTopic
        let channel = shell.settings[.channel]
        var addresses = addressList(shell.settings[.nsqdHTTPAddress])
        if addresses.isEmpty {
            for lookupd in addressList(shell.settings[.lookupdHTTPAddress]) {
                addresses += (try? await NSQDHTTPAPI.producerHTTPAddresses(topic: topic, lookupdHTTPAddress: lookupd)) ?? []
            }
        }
        guard !addresses.isEmpty else { return nil }
        var total = NSQChannelBacklog()
        for address in Set(addresses) {
            guard let backlog = try? await NSQDHTTPAPI.backlog(
                topic: topic, channel: channel, nsqdHTTPAddress: address, timeout: .seconds(2))
            else { return nil }
            total.depth += backlog.depth
            total.inFlight += backlog.inFlight
            total.deferred += backlog.deferred
        }
        return Queue(topic: topic, channel: channel, depth: total.depth, inFlight: total.inFlight, deferred: total.deferred)
    }

    var tables: Table {
        var table = Table(columns: ["PART", "STATE"])
        table.append(["processor", processor])
        if let partition { table.append(["partition", "\(partition) (one owner of a partitioned deployment; see 'deployment')"]) }
        table.append(["broker", broker])
        if let queue {
            table.append(["queue", "\(queue.topic)/\(queue.channel): depth \(queue.depth), in flight \(queue.inFlight), deferred \(queue.deferred)"])
        }
        for connection in connections {
            var line = "\(connection.state), RDY \(connection.ready), in flight \(connection.inFlight), received \(connection.received), finished \(connection.finished), reconnects \(connection.reconnects)"
            if let error = connection.lastError { line += ", last error: \(error)" }
            table.append(["nsqd \(connection.address) \(connection.role)", line])
        }
        if let state { table.append(["state", state]) }
        if let counters, let deadLetterTopic {
            table.append(["dead letters", "\(counters.deadLettered) to \(deadLetterTopic), \(counters.duplicatesSkipped) duplicates skipped"])
        }
        if let status = processorStatus {
            table.append(["received", "\(status.receivedPlays) plays, \(status.invalidMessages) invalid, \(status.readBatches) read batches"])
            table.append(["held videos", String(status.heldVideos)])
            table.append(["next deadline", status.nextDeadline.map { RFC3339.format($0) } ?? "-"])
            table.append(["calls", "\(status.calls) made, \(status.pendingCalls) pending"])
            var client = "\(status.client): " + (status.clientHealthy ? "healthy" : "failing (\(status.consecutiveFailures) in a row)")
            if let error = status.lastError { client += ", last error: \(error)" }
            table.append(["client", client])
        }
        return table
    }
}

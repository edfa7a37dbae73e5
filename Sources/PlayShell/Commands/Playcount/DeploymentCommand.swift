import ArgumentParser
import NSQ
import PlayCounts
import ShellKit

/// `deployment`: the whole partitioned deployment as the brokers see it — the topic the routers read, each
/// partition topic, their channels, depths and consumers (issue 12).
struct DeploymentCommand: ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "deployment",
        abstract: "Show the topic, its partition topics, their depths and consumers (routers, owners) on every nsqd.",
        discussion: """
            Asks every nsqd for its /stats: those of nsqd-http-address, else those nsqlookupd \
            (lookupd-http-address) lists for the topic or one of its partition topics, else the running \
            embedded broker. K is --partitions, else the K of the partition setting, else the partitions \
            setting. A partition topic without a consumer has no owner running: its plays wait on the queue.
            """)

    @Option(help: "How many partitions to show (default: the partition or partitions setting).")
    var partitions: Int?

    @OptionGroup var output: OutputOptions

    func run(in shell: ShellContext) async throws {
        let count = partitions ?? shell.settings.ownedPartition?.count ?? shell.settings[.partitions]
        guard (1...Partition.maxCount).contains(count) else {
            throw ShellError("--partitions must be between 1 and \(Partition.maxCount)")
        }
        let report = try await DeploymentReport.gather(partitions: count, in: shell)
        try shell.report(report, json: output.json) { $0.table }
    }
}

/// What `deployment` prints: one entry per topic of the deployment, with its channels summed over the nsqds.
struct DeploymentReport: Encodable, Sendable {
    struct Consumer: Encodable, Sendable {
        var clientID: String
        var hostname: String
        var remoteAddress: String
        var userAgent: String
        var nsqd: String

        enum CodingKeys: String, CodingKey {
            case clientID = "client_id", hostname, remoteAddress = "remote_address", userAgent = "user_agent", nsqd
        }
    }

    struct Channel: Encodable, Sendable {
        var channel: String
        var depth: Int
        var inFlight: Int
        var consumers: [Consumer]

        enum CodingKeys: String, CodingKey { case channel, depth, inFlight = "in_flight", consumers }
    }

    struct Topic: Encodable, Sendable {
        var topic: String
        /// `k/K` for a partition topic; nil for the topic plays are published to.
        var partition: String?
        /// The nsqds that have the topic.
        var nsqd: [String]
        /// Messages held in the topic itself (on an nsqd where it has no channel yet).
        var depth: Int
        var channels: [Channel]
    }

    var topic: String
    var partitions: Int
    var nsqd: [String]
    var topics: [Topic]

    static func gather(partitions count: Int, in shell: ShellContext) async throws -> DeploymentReport {
        let source = shell.settings[.topic]
        let partitionTopics = (0..<count).compactMap { Partition(index: $0, count: count) }
        let names = [source] + (count > 1 ? partitionTopics.map { $0.topic(of: source) } : [])
        let addresses = try await nsqdHTTPAddresses(topics: names, in: shell)
        var statsByNsqd: [(String, NSQDStats)] = []
        for address in addresses {
            do {
                statsByNsqd.append((address, try await NSQDHTTPAPI.stats(nsqdHTTPAddress: address, timeout: .seconds(5))))
            } catch {
                throw ShellError("nsqd \(address): \(error)")
            }
        }
        let topics = names.enumerated().map { position, name -> Topic in
            var topic = Topic(
                topic: name, partition: position == 0 || count == 1 ? nil : partitionTopics[position - 1].description,
                nsqd: [], depth: 0, channels: [])
            var channels: [String: Channel] = [:]
            for (address, stats) in statsByNsqd {
                guard let found = stats.topics.first(where: { $0.name == name }) else { continue }
                topic.nsqd.append(address)
                topic.depth += found.depth
                for channel in found.channels {
                    var merged = channels[channel.name] ?? Channel(channel: channel.name, depth: 0, inFlight: 0, consumers: [])
                    merged.depth += channel.depth
                    merged.inFlight += channel.inFlight
                    merged.consumers += channel.clients.map {
                        Consumer(
                            clientID: $0.clientID, hostname: $0.hostname, remoteAddress: $0.remoteAddress,
                            userAgent: $0.userAgent, nsqd: address)
                    }
                    channels[channel.name] = merged
                }
            }
            topic.channels = channels.values.sorted { $0.channel < $1.channel }
            return topic
        }
        return DeploymentReport(topic: source, partitions: count, nsqd: addresses, topics: topics)
    }

    /// The HTTP APIs to ask: the nsqd-http-address setting, else the nsqds lookupd lists for any of `topics`,
    /// else the running embedded broker.
    private static func nsqdHTTPAddresses(topics: [String], in shell: ShellContext) async throws -> [String] {
        let configured = addressList(shell.settings[.nsqdHTTPAddress])
        if !configured.isEmpty { return configured }
        let lookupds = addressList(shell.settings[.lookupdHTTPAddress])
        if !lookupds.isEmpty {
            var found: Set<String> = []
            for lookupd in lookupds {
                for topic in topics {
                    do {
                        found.formUnion(try await NSQDHTTPAPI.producerHTTPAddresses(topic: topic, lookupdHTTPAddress: lookupd))
                    } catch {
                        throw ShellError("lookupd \(lookupd): \(error)")
                    }
                }
            }
            return found.sorted()
        }
        if let broker = shell.app.broker.running { return [broker.httpAddressText] }
        if !addressList(shell.settings[.nsqdTCPAddress]).isEmpty {
            throw ShellError("set nsqd-http-address (or lookupd-http-address): nsqd's /stats is read over HTTP")
        }
        throw ShellError("the embedded broker is not running and no nsqd is set (nsqd-http-address, lookupd-http-address)")
    }

    var table: Table {
        var table = Table(columns: ["TOPIC", "CHANNEL", "DEPTH", "IN FLIGHT", "CONSUMERS"])
        for topic in topics {
            let name = topic.partition.map { "\(topic.topic) (\($0))" } ?? topic.topic
            if topic.nsqd.isEmpty {
                table.append([name, "-", "-", "-", "not on any nsqd yet"])
                continue
            }
            if topic.channels.isEmpty {
                table.append([name, "-", String(topic.depth), "0", topic.partition == nil ? "none" : "none: no owner running"])
            }
            for (index, channel) in topic.channels.enumerated() {
                // A processor holds two connections per nsqd (live and catch-up): each is listed.
                let consumers = channel.consumers.isEmpty
                    ? (topic.partition == nil ? "none" : "none: no owner running")
                    : channel.consumers.map { "\($0.clientID) \($0.remoteAddress)" }.joined(separator: ", ")
                table.append([
                    index == 0 ? name : "", channel.channel, String(channel.depth + (index == 0 ? topic.depth : 0)),
                    String(channel.inFlight), consumers,
                ])
            }
        }
        table.append(["", "", "", "", "nsqd: " + (nsqd.isEmpty ? "none found" : nsqd.joined(separator: ", "))])
        return table
    }
}

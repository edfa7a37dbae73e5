import ArgumentParser
import NSQ
import NSQBroker
import ShellKit

/// `broker start|stop|status`: the embedded nsqd-compatible broker.
struct BrokerCommand: ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "broker",
        abstract: "Start, stop or inspect the embedded nsqd-compatible broker.",
        discussion: """
            The embedded broker speaks nsqd's TCP protocol and HTTP API (and answers nsqlookupd's /lookup \
            and /nodes on its HTTP port). Queues are kept in memory. Commands that need NSQ start it on \
            demand when nsqd-tcp-address and lookupd-http-address are empty. For a broker in a process of \
            its own, run playcount-nsqd.
            """,
        subcommands: [Start.self, Stop.self, Status.self])

    func run(in shell: ShellContext) async throws {
        try await Status().run(in: shell)
    }

    struct Start: ShellCommand {
        static let configuration = CommandConfiguration(commandName: "start", abstract: "Start the embedded broker.")

        @Option(help: "TCP address, HOST:PORT (port 0: any free port).")
        var tcpAddress: String = "127.0.0.1:0"

        @Option(help: "HTTP address, HOST:PORT (port 0: any free port).")
        var httpAddress: String = "127.0.0.1:0"

        func run(in shell: ShellContext) async throws {
            guard let tcp = NSQAddress(tcpAddress), let http = NSQAddress(httpAddress) else {
                throw ShellError("addresses are HOST:PORT")
            }
            guard tcp.host == http.host else { throw ShellError("the TCP and HTTP addresses must use the same host") }
            if shell.app.broker.running != nil { throw ShellError("the embedded broker is already running") }
            let broker: NSQBroker
            do {
                broker = try await shell.app.broker.start(host: tcp.host, tcpPort: tcp.port, httpPort: http.port)
            } catch {
                throw ShellError("cannot start the embedded broker: \(error)")
            }
            shell.out.print("embedded broker: TCP \(broker.tcpAddressText) HTTP \(broker.httpAddressText)")
        }
    }

    struct Stop: ShellCommand {
        static let configuration = CommandConfiguration(
            commandName: "stop", abstract: "Stop the embedded broker (its in-memory queues are lost).")

        func run(in shell: ShellContext) async throws {
            guard shell.app.broker.running != nil else { throw ShellError("the embedded broker is not running") }
            if shell.app.session != nil { throw ShellError("stop the processor first") }
            try await shell.app.broker.stop()
        }
    }

    struct Status: ShellCommand {
        static let configuration = CommandConfiguration(
            commandName: "status", abstract: "Show the embedded broker's topics and channels.")

        @OptionGroup var output: OutputOptions

        func run(in shell: ShellContext) async throws {
            guard let broker = shell.app.broker.running else {
                throw ShellError("the embedded broker is not running")
            }
            let stats = await broker.stats()
            var rows: [BrokerRow] = []
            for topic in stats.topics {
                rows.append(BrokerRow(topic: topic.name, channel: nil, depth: topic.depth, inFlight: 0, deferred: 0,
                    messages: Int(topic.messageCount), clients: 0))
                for channel in topic.channels {
                    rows.append(BrokerRow(topic: topic.name, channel: channel.name, depth: channel.depth,
                        inFlight: channel.inFlightCount, deferred: channel.deferredCount,
                        messages: Int(channel.messageCount), clients: channel.clients.count))
                }
            }
            if !output.json {
                shell.out.print("embedded broker: TCP \(broker.tcpAddressText) HTTP \(broker.httpAddressText)")
            }
            try shell.report(rows, json: output.json) { rows in
                Table(columns: ["TOPIC", "CHANNEL", "DEPTH", "IN FLIGHT", "DEFERRED", "MESSAGES", "CLIENTS"],
                    rows: rows.map {
                        [$0.topic, $0.channel ?? "-", String($0.depth), String($0.inFlight), String($0.deferred),
                         String($0.messages), String($0.clients)]
                    })
            }
        }
    }
}

struct BrokerRow: Encodable {
    let topic: String
    let channel: String?
    let depth: Int
    let inFlight: Int
    let deferred: Int
    let messages: Int
    let clients: Int
}

import ArgumentParser
import Logging
import NIOCore
import NIOPosix
import NSQBroker
import ServiceLifecycle
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The embedded broker as a process of its own, with nsqd's flag spellings.
///
/// Prints one line once both listeners are bound, e.g.
/// `playcount-nsqd: TCP 127.0.0.1:41234 HTTP 127.0.0.1:41235`, and shuts down cleanly on SIGTERM/SIGINT.
@main
struct PlaycountNSQD: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "playcount-nsqd",
        abstract: "An in-memory, nsqd v1.3.0-compatible broker (TCP protocol V2, HTTP API, lookupd endpoints).")

    @Option(name: .customLong("tcp-address"), help: "<addr>:<port> to listen on for TCP clients (port 0: any free port).")
    var tcpAddress = "127.0.0.1:4150"

    @Option(name: .customLong("http-address"), help: "<addr>:<port> to listen on for HTTP clients (port 0: any free port).")
    var httpAddress = "127.0.0.1:4151"

    @Option(name: .customLong("broadcast-address"), help: "Address advertised in /info and /lookup (default: the TCP host).")
    var broadcastAddress: String?

    @Option(name: .customLong("msg-timeout"), help: "Default time to wait before auto-requeueing a message (e.g. 60s, 500ms, 1m).")
    var msgTimeout = "60s"

    @Option(name: .customLong("max-msg-timeout"), help: "Maximum client msg_timeout and TOUCH extension.")
    var maxMsgTimeout = "15m"

    @Option(name: .customLong("max-rdy-count"), help: "Maximum RDY count for a client.")
    var maxRdyCount: Int64 = 2500

    @Option(name: .customLong("max-heartbeat-interval"), help: "Maximum client heartbeat interval.")
    var maxHeartbeatInterval = "60s"

    @Option(name: .customLong("max-msg-size"), help: "Maximum size of a single message in bytes.")
    var maxMsgSize: Int64 = 1_048_576

    @Option(name: .customLong("max-body-size"), help: "Maximum size of a single command body in bytes.")
    var maxBodySize: Int64 = 5_242_880

    @Option(name: .customLong("max-req-timeout"), help: "Maximum REQ/DPUB delay.")
    var maxReqTimeout = "1h"

    @Option(name: .customLong("max-output-buffer-size"), help: "Maximum client output_buffer_size in bytes.")
    var maxOutputBufferSize = 65536

    @Option(name: .customLong("max-output-buffer-timeout"), help: "Maximum client output_buffer_timeout.")
    var maxOutputBufferTimeout = "30s"

    @Option(name: .customLong("min-output-buffer-timeout"), help: "Minimum client output_buffer_timeout.")
    var minOutputBufferTimeout = "25ms"

    @Option(name: .customLong("hostname"), help: "Hostname reported in /info and /lookup.")
    var hostname: String?

    func run() async throws {
        let (tcpHost, tcpPort) = try Self.hostPort(tcpAddress, flag: "--tcp-address")
        let (httpHost, httpPort) = try Self.hostPort(httpAddress, flag: "--http-address")
        guard tcpHost == httpHost else {
            throw ValidationError("--tcp-address and --http-address must use the same host")
        }
        var configuration = NSQBrokerConfiguration(host: tcpHost, tcpPort: tcpPort, httpPort: httpPort)
        configuration.broadcastAddress = broadcastAddress
        if let hostname { configuration.hostname = hostname }
        configuration.msgTimeout = try Self.duration(msgTimeout, flag: "--msg-timeout")
        configuration.maxMsgTimeout = try Self.duration(maxMsgTimeout, flag: "--max-msg-timeout")
        configuration.maxRdyCount = maxRdyCount
        configuration.maxHeartbeatInterval = try Self.duration(maxHeartbeatInterval, flag: "--max-heartbeat-interval")
        configuration.maxMsgSize = maxMsgSize
        configuration.maxBodySize = maxBodySize
        configuration.maxReqTimeout = try Self.duration(maxReqTimeout, flag: "--max-req-timeout")
        configuration.maxOutputBufferSize = maxOutputBufferSize
        configuration.maxOutputBufferTimeout = try Self.duration(maxOutputBufferTimeout, flag: "--max-output-buffer-timeout")
        configuration.minOutputBufferTimeout = try Self.duration(minOutputBufferTimeout, flag: "--min-output-buffer-timeout")

        // The group's Dispatch signal sources take over these signals, but on Linux only once Dispatch has
        // registered them, some time after the group started: until then the default action would kill the
        // process. Ignored, the signals wait for the sources.
        signal(SIGTERM, SIG_IGN)
        signal(SIGINT, SIG_IGN)
        let broker = NSQBroker(configuration: configuration)
        try await broker.start()
        let tcp = broker.tcpPort ?? 0
        let http = broker.httpPort ?? 0
        let ready = "playcount-nsqd: TCP \(Self.join(tcpHost, tcp)) HTTP \(Self.join(httpHost, http))"
        // The ready line is written once the group traps the signals: a SIGTERM right after it stops gracefully.
        let service = BrokerService(broker: broker) { Self.writeLine(ready, to: STDOUT_FILENO) }
        let services = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [service], gracefulShutdownSignals: [.sigterm, .sigint],
                logger: Logger(label: "playcount-nsqd")))
        try await services.run()
        Self.writeLine("playcount-nsqd: stopped", to: STDERR_FILENO)
    }

    /// Writes a line straight to a file descriptor (no stdio buffering: tests read stdout through a pipe).
    static func writeLine(_ line: String, to descriptor: Int32) {
        var bytes = Array((line + "\n").utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeMutableBytes { write(descriptor, $0.baseAddress! + offset, $0.count - offset) }
            if written <= 0 { return }
            offset += written
        }
    }

    static func join(_ host: String, _ port: Int) -> String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    /// Splits `host:port` (or `[v6]:port`); an empty host means all interfaces, as in Go.
    static func hostPort(_ text: String, flag: String) throws -> (String, Int) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
              (0...65535).contains(port) else {
            throw ValidationError("\(flag) must be <host>:<port>, got '\(text)'")
        }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return (host.isEmpty ? "0.0.0.0" : host, port)
    }

    /// Parses Go-style durations: `500ms`, `60s`, `1m`, `1h`, `1m30s`, `250us`, `100ns`.
    static func duration(_ text: String, flag: String) throws -> TimeAmount {
        var total: Int64 = 0
        var number = ""
        var unit = ""
        func commit() throws {
            guard let value = Double(number) else { throw ValidationError("\(flag): bad duration '\(text)'") }
            let scale: Double
            switch unit {
            case "ns": scale = 1
            case "us", "µs": scale = 1_000
            case "ms": scale = 1_000_000
            case "s": scale = 1_000_000_000
            case "m": scale = 60_000_000_000
            case "h": scale = 3_600_000_000_000
            default: throw ValidationError("\(flag): bad duration unit in '\(text)'")
            }
            let nanoseconds = value * scale
            guard nanoseconds.isFinite, nanoseconds >= 0, nanoseconds + Double(total) < 9.0e18 else {
                throw ValidationError("\(flag): duration '\(text)' out of range")
            }
            total += Int64(nanoseconds)
            number = ""
            unit = ""
        }
        for character in text {
            if character.isNumber || character == "." {
                if !unit.isEmpty { try commit() }
                number.append(character)
            } else {
                unit.append(character)
            }
        }
        if text == "0" { return .zero }
        try commit()
        return .nanoseconds(total)
    }
}

/// The broker as a service: it runs (its listeners are bound by `start()`) until a graceful shutdown, which
/// closes the listeners and connections. Its queues are in memory and end with it.
/// `onRunning` is called when the service starts, after its group trapped the shutdown signals.
struct BrokerService: Service {
    let broker: NSQBroker
    let onRunning: @Sendable () -> Void

    func run() async throws {
        onRunning()
        try? await gracefulShutdown()
        try await broker.stop()
    }
}

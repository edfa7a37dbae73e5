import ArgumentParser
import Hummingbird
import Logging
import PlayCounts
import PlayHTTP
import PlayWeb
import ServiceLifecycle
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The web page as a service of its own, apart from the processor: receives the webhook's calls
/// (`POST /calls`, deduplicated by `Idempotency-Key`) and serves the page that follows them.
///
///     playcount-web --http-address 127.0.0.1:8080 &
///     playcount --set client=http://127.0.0.1:8080/calls -c serve
///
/// Prints `playcount-web: http://HOST:PORT/` once listening (port 0 picks a free one); SIGTERM or SIGINT stop it
/// gracefully (open pages' streams end, the listener closes) with status 0.
@main
struct PlaycountWeb: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "playcount-web",
        abstract: "Serve the play-count web page, fed by playcount's webhook calls (POST /calls).")

    @Option(help: ArgumentHelp("Where to listen (port 0: a free one).", valueName: "host:port"))
    var httpAddress = "127.0.0.1:8080"

    @Option(help: "Videos below this count are shown as realtime (the processor's realtime-threshold).")
    var realtimeThreshold = 100

    func validate() throws {
        guard Self.hostPort(httpAddress) != nil else {
            throw ValidationError("--http-address takes HOST:PORT, got '\(httpAddress)'")
        }
        guard realtimeThreshold >= 0 else { throw ValidationError("--realtime-threshold must be 0 or more") }
    }

    func run() async throws {
        guard let (host, port) = Self.hostPort(httpAddress) else { return }
        // Ignored until the group's signal sources take them (on Linux some time after the group starts).
        signal(SIGTERM, SIG_IGN)
        signal(SIGINT, SIG_IGN)
        let logger = Logger(label: "playcount-web")
        let feed = CallFeed(realtimeThreshold: realtimeThreshold)
        let router = Router()
        WebRoutes.add(to: router, feed: feed, acceptsCalls: true)
        router.get("healthz") { _, _ in "ok\n" }
        var serverLogger = logger
        serverLogger.logLevel = .notice
        let server = HTTPServerService(host: host, port: port, router: router, logger: serverLogger) { host, port in
            Self.writeLine("playcount-web: http://\(host):\(port)/", to: STDOUT_FILENO)
        }
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [server], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        do {
            try await group.run()
        } catch {
            Self.writeLine("playcount-web: \(error)", to: STDERR_FILENO)
            throw ExitCode.failure
        }
        feed.close()
        Self.writeLine("playcount-web: stopped", to: STDERR_FILENO)
    }

    static func hostPort(_ text: String) -> (String, Int)? {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (0...65535).contains(port)
        else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return host.isEmpty ? nil : (host, port)
    }

    /// Straight to the descriptor, no stdio buffering: tests read the line through a pipe (a reader that went
    /// away is no reason to stop serving).
    static func writeLine(_ line: String, to descriptor: Int32) {
        try? FileDescriptorWriter.writeAll(Array((line + "\n").utf8), to: descriptor, target: "the terminal")
    }
}

import Foundation
import Hummingbird
import Logging
import Metrics
import NSQ
import PlayHTTP
import PlayService
import PlayWeb
import Locking
import Prometheus
import ServiceLifecycle
import ShellKit

/// The HTTP servers of one `playcount` process, each from its start until the program stops:
/// - the operations server (`--http-address`): `/metrics`, `/healthz`, `/readyz`, `/status`, `/stats`, and the
///   web page's routes, so `client web` at the same address shares it;
/// - the web page's own server, when `client web` names another address: the page, its events, `/status` and
///   `/stats`.
/// Every pipeline started once the operations server runs reports its metrics to its registry.
final class HTTPEndpoints: Sendable {
    /// What `client web` pushes to, and every page follows; one per process, across runs.
    let feed = CallFeed()
    private let operations = Locked<(metrics: PipelineMetrics, server: RunningServer)?>(nil)
    private let web = Locked<RunningServer?>(nil)

    /// The operations server's metrics, once it runs.
    var metrics: PipelineMetrics? { operations.current?.metrics }

    /// Serves the operations endpoints on `address`; returns once listening. Makes its registry the process's
    /// swift-metrics backend (once per process), so libraries' metrics land there too.
    func startOperations(on address: NSQAddress, shell: ShellContext) async throws {
        let registry = PrometheusCollectorRegistry()
        let factory = PrometheusMetricsFactory.playcount(registry: registry)
        MetricsSystem.bootstrap(factory)
        let metrics = PipelineMetrics(factory: factory)
        let router = Router()
        OperationsRoutes.add(to: router, registry: registry, metrics: metrics, source: ShellOperationsSource(shell: shell))
        WebRoutes.add(to: router, feed: feed)
        let server = try await RunningServer.start(on: address, router: router, shell: shell)
        operations.withLock { $0 = (metrics, server) }
        shell.logger.notice(
            "http: /metrics /healthz /readyz /status /stats and the web page on http://\(server.address)",
            metadata: ["http_address": "\(server.address)"])
    }

    /// The web page's URL for `client web` at `address`, starting its server the first time: the operations
    /// server when it was given that address (or the one it bound), else a server of its own.
    func webPage(on address: NSQAddress, shell: ShellContext) async throws -> String {
        if let operationsServer = operations.current?.server, operationsServer.serves(address) {
            return "http://\(operationsServer.address)/"
        }
        if let running = web.current {
            guard running.serves(address) else {
                throw ShellError("the web page is served at http://\(running.address)/ already; it moves only with a restart")
            }
            return "http://\(running.address)/"
        }
        let router = Router()
        WebRoutes.add(to: router, feed: feed)
        OperationsRoutes.addDocuments(to: router, source: ShellOperationsSource(shell: shell))
        let server = try await RunningServer.start(on: address, router: router, shell: shell)
        web.withLock { $0 = server }
        shell.logger.notice("web page on http://\(server.address)/", metadata: ["web_address": "\(server.address)"])
        return "http://\(server.address)/"
    }

    /// Closes every server (after the pipeline's graceful stop, so `/readyz` said 503 meanwhile); open pages'
    /// event streams end first.
    func stop() async {
        feed.close()
        let servers = [operations.withLock { $0.take()?.server }, web.withLock { $0.take() }].compactMap { $0 }
        for server in servers { await server.stop() }
    }
}

/// One `HTTPServerService` running in a group of its own, in the background.
private struct RunningServer: Sendable {
    let requested: NSQAddress
    /// `host:port` as bound.
    let address: String
    let group: ServiceGroup
    let run: Task<Void, Never>

    /// True when `address` names this server: as requested (port 0 included) or as bound.
    func serves(_ other: NSQAddress) -> Bool {
        (other.host == requested.host && other.port == requested.port) || other.description == address
    }

    static func start(on address: NSQAddress, router: Router<BasicRequestContext>, shell: ShellContext) async throws
        -> RunningServer
    {
        var serverLogger = shell.logger
        serverLogger.logLevel = max(serverLogger.logLevel, .notice)  // not Hummingbird's own "listening" line
        let listening = OneShotResult()
        let server = HTTPServerService(host: address.host, port: address.port, router: router, logger: serverLogger) {
            host, port in listening.succeed("\(host):\(port)")
        }
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(services: [server], logger: serverLogger))
        let run = Task {
            do {
                try await group.run()
                listening.fail("the HTTP server stopped")
            } catch {
                listening.fail("\(error)")
            }
        }
        do {
            let bound = try await listening.value()
            return RunningServer(requested: address, address: bound, group: group, run: run)
        } catch {
            await run.value
            throw error
        }
    }

    func stop() async {
        await group.triggerGracefulShutdown()
        await run.value
    }
}

/// The endpoints' view of the shell: the app's pipelines, and `status`/`stats` as `--json` prints them.
struct ShellOperationsSource: OperationsSource {
    let shell: ShellContext

    func runningPipeline() -> PlayPipeline? { shell.app.session }
    func latestPipeline() -> PlayPipeline? { shell.app.latestSession }

    func statusJSON() async throws -> String {
        try ShellContext.jsonText(await StatusReport.gather(in: shell))
    }

    func statsJSON() async throws -> String? {
        guard let session = shell.app.latestSession else { return nil }
        return try ShellContext.jsonText(await session.processor.stats())
    }
}

/// The first outcome of a start, for a waiter that comes before or after it.
private final class OneShotResult: Sendable {
    private struct State {
        var result: Result<String, ShellError>?
        var waiter: CheckedContinuation<String, any Error>?
    }
    private let state = Locked(State())

    func succeed(_ value: String) { complete(.success(value)) }
    func fail(_ message: String) { complete(.failure(ShellError("cannot serve HTTP: \(message)"))) }

    private func complete(_ result: Result<String, ShellError>) {
        let waiter = state.withLock { state -> CheckedContinuation<String, any Error>? in
            guard state.result == nil else { return nil }
            state.result = result
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(with: result.mapError { $0 as any Error })
    }

    func value() async throws -> String {
        try await withCheckedThrowingContinuation { continuation in
            let ready = state.withLock { state -> Result<String, ShellError>? in
                if let result = state.result { return result }
                state.waiter = continuation
                return nil
            }
            if let ready { continuation.resume(with: ready.mapError { $0 as any Error }) }
        }
    }
}

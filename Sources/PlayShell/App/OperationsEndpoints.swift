import Foundation
import Logging
import Metrics
import NSQ
import PlayHTTP
import PlayService
import Locking
import Prometheus
import ServiceLifecycle
import ShellKit

/// `playcount --http-address HOST:PORT`: the metrics registry every pipeline of this process reports to, and
/// the operations server (``OperationsServer``) that serves it, from launch until the program stops.
final class OperationsEndpoints: Sendable {
    let registry = PrometheusCollectorRegistry()
    let metrics: PipelineMetrics
    private let running = Locked<(group: ServiceGroup, run: Task<Void, Never>)?>(nil)
    private let boundAddress = Locked<String?>(nil)

    /// Makes the registry the process's swift-metrics backend (once per process), so libraries' metrics land
    /// there too.
    init() {
        let factory = PrometheusMetricsFactory.playcount(registry: registry)
        MetricsSystem.bootstrap(factory)
        metrics = PipelineMetrics(factory: factory)
    }

    /// `host:port` once listening.
    var address: String? { boundAddress.current }

    /// Listens on `address` (port 0: a free one) and returns once it does; throws if it cannot.
    func start(address: NSQAddress, shell: ShellContext) async throws {
        var serverLogger = shell.logger
        serverLogger.logLevel = max(serverLogger.logLevel, .notice)  // not Hummingbird's own "listening" line
        let listening = OneShotResult()
        let server = OperationsServer(
            host: address.host, port: address.port, registry: registry, metrics: metrics,
            source: ShellOperationsSource(shell: shell), logger: serverLogger
        ) { host, port in
            listening.succeed("\(host):\(port)")
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
        running.withLock { $0 = (group, run) }
        let bound = try await listening.value()
        boundAddress.withLock { $0 = bound }
        shell.logger.notice(
            "http: /metrics /healthz /readyz /status /stats on http://\(bound)", metadata: ["http_address": "\(bound)"])
    }

    /// Closes the endpoints (after the pipeline's graceful stop, so `/readyz` said 503 meanwhile).
    func stop() async {
        guard let (group, run) = running.withLock({ current in defer { current = nil }; return current }) else { return }
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

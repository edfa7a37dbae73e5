import Hummingbird
import Logging
import NIOCore
import PlayService
import Prometheus
import ServiceLifecycle

/// What the operations endpoints show, from the face that runs the pipeline (the shell, `serve`).
public protocol OperationsSource: Sendable {
    /// The pipeline running now, for `/readyz`.
    func runningPipeline() -> PlayPipeline?
    /// The running or last pipeline, for the gauges of `/metrics`.
    func latestPipeline() -> PlayPipeline?
    /// `status --json`, as the shell prints it.
    func statusJSON() async throws -> String
    /// `stats --json`, as the shell prints it; nil before the first run.
    func statsJSON() async throws -> String?
}

/// An HTTP server on Hummingbird serving a router's routes (``OperationsRoutes``, the web page's), as a
/// `Service`: it runs until its group shuts down gracefully, then stops accepting connections and waits for the
/// requests in flight (long-lived ones, such as an event stream, end on graceful shutdown themselves).
public struct HTTPServerService: Service {
    public let host: String
    public let port: Int
    private let application: Application<RouterResponder<BasicRequestContext>>

    /// - Parameter onRunning: called with the bound address once the server listens (port 0 picks a free one).
    public init(
        host: String, port: Int, router: Router<BasicRequestContext>, logger: Logger,
        onRunning: @escaping @Sendable (_ host: String, _ port: Int) -> Void = { _, _ in }
    ) {
        self.host = host
        self.port = port
        application = Application(
            router: router,
            configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: "playcount"),
            onServerRunning: { channel in
                onRunning(host, channel.localAddress?.port ?? port)
            },
            logger: logger)
    }

    public func run() async throws {
        try await application.run()
    }
}

/// The endpoints an operator or a container platform polls:
/// - `GET /metrics`: every metric in Prometheus's text format (the registry's, gauges refreshed first);
/// - `GET /healthz`: 200 while the process serves requests (liveness);
/// - `GET /readyz`: 200 when running, subscribed to every nsqd and the client accepts calls; else 503 with the
///   reasons, one per line (readiness, see ``PipelineReadiness``);
/// - `GET /status`, `GET /stats`: the shell's `status --json` and `stats --json` (``addDocuments(to:source:)``).
public enum OperationsRoutes {
    /// - Parameters:
    ///   - registry: what `/metrics` emits (the registry behind the program's `PrometheusMetricsFactory`).
    ///   - metrics: the pipeline metrics whose gauges are set before each scrape.
    public static func add(
        to router: Router<BasicRequestContext>, registry: PrometheusCollectorRegistry, metrics: PipelineMetrics,
        source: some OperationsSource
    ) {
        router.get("metrics") { _, _ -> Response in
            await metrics.refreshGauges(from: source.latestPipeline())
            var bytes: [UInt8] = []
            bytes.reserveCapacity(16 * 1024)
            registry.emit(into: &bytes)
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
        }
        router.get("healthz") { _, _ -> Response in
            text(.ok, "ok\n")
        }
        router.get("readyz") { _, _ -> Response in
            let readiness = await PipelineReadiness.check(source.runningPipeline())
            if readiness.isReady { return text(.ok, "ready\n") }
            return text(.serviceUnavailable, "not ready:\n" + readiness.reasons.map { "- \($0)\n" }.joined())
        }
        addDocuments(to: router, source: source)
    }

    /// `GET /status` and `GET /stats` only (what the web page reads beside its events).
    public static func addDocuments(to router: Router<BasicRequestContext>, source: some OperationsSource) {
        router.get("status") { _, _ -> Response in
            json(.ok, try await source.statusJSON())
        }
        router.get("stats") { _, _ -> Response in
            guard let stats = try await source.statsJSON() else {
                return json(.notFound, #"{"error": "the processor has not run yet"}"#)
            }
            return json(.ok, stats)
        }
    }

    private static func text(_ status: HTTPResponse.Status, _ body: String) -> Response {
        Response(
            status: status, headers: [.contentType: "text/plain; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
    }

    private static func json(_ status: HTTPResponse.Status, _ body: String) -> Response {
        Response(
            status: status, headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: body + "\n")))
    }
}

extension PrometheusMetricsFactory {
    /// A factory on `registry` with the buckets playcount's histograms are meant for (``PipelineMetrics``).
    public static func playcount(registry: PrometheusCollectorRegistry) -> PrometheusMetricsFactory {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.durationHistogramBuckets = PipelineMetrics.durationBuckets
        factory.valueHistogramBuckets = PipelineMetrics.valueBuckets
        return factory
    }
}

import NSQ

/// Whether a pipeline is ready to take traffic, for a readiness probe (`/readyz`): running with its state
/// loaded, subscribed to every nsqd it knows, and with a client that accepts calls.
public struct PipelineReadiness: Sendable, Hashable {
    /// Why it is not ready; empty when it is.
    public var reasons: [String]

    public var isReady: Bool { reasons.isEmpty }

    public init(reasons: [String]) { self.reasons = reasons }

    /// Checks the running pipeline; nil (none running) is not ready.
    public static func check(_ pipeline: PlayPipeline?) async -> PipelineReadiness {
        guard let pipeline, pipeline.hasStarted, !pipeline.hasStopped else {
            return PipelineReadiness(reasons: ["the processor is not running"])
        }
        var reasons: [String] = []
        let live = pipeline.consumer.status().connections.filter { $0.role == .live }
        if live.isEmpty {
            reasons.append("not connected to any nsqd yet")
        }
        for connection in live where connection.state != .subscribed {
            var reason = "nsqd \(connection.address): \(connection.state.rawValue)"
            if let error = connection.lastError { reason += " (\(error))" }
            reasons.append(reason)
        }
        let status = await pipeline.processor.status()
        if !status.clientHealthy {
            reasons.append(
                "client \(status.client) failing (\(status.consecutiveFailures) in a row)"
                    + (status.lastError.map { ": \($0)" } ?? ""))
        }
        return PipelineReadiness(reasons: reasons)
    }
}

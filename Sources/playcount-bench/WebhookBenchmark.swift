import ArgumentParser
import Foundation
import PlayClients
import PlayCounts

/// `playcount-bench webhook`: the webhook client's cost per call against a local server that answers 200 at
/// once (Scripts/bench-webhook starts one): calls one after another, as the processor makes them.
struct WebhookBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "webhook",
        abstract: "Publish calls of 20 videos one after another to a webhook; prints calls/s, p50/p99 ms per call "
            + "and the client's CPU µs per call.")

    @Option(help: "The webhook (http:// or https://).")
    var url: String

    @Option(help: "Timed calls.")
    var calls = 5_000

    @Option(help: "Untimed calls first (connection, TLS handshake, warm caches).")
    var warmup = 200

    @Option(help: "A PEM file of the CA certificates to trust for https.")
    var caFile: String?

    func validate() throws {
        guard calls > 0, warmup >= 0 else { throw ValidationError("--calls must be positive, --warmup not negative") }
    }

    func run() async throws {
        let client = try WebhookPublishClient(url: url, timeout: .seconds(10), caFile: caFile)
        let videos = (0..<20).map { VideoID(String(format: "00000000-0000-4000-8000-%012d", $0))! }
        func call(_ sequence: Int) -> PublishCall {
            PublishCall(
                sequence: sequence, publishedAt: 1_795_935_600_123_456_000,
                counts: videos.map { VideoCount(video: $0, plays: 100 + sequence) })
        }
        for sequence in 0..<warmup { try await client.publish(call(sequence + 1)) }
        var perCall: [Duration] = []
        perCall.reserveCapacity(calls)
        let cpuBefore = Self.cpuSeconds()
        let started = ContinuousClock.now
        for sequence in 0..<calls {
            let callStarted = ContinuousClock.now
            try await client.publish(call(warmup + sequence + 1))
            perCall.append(ContinuousClock.now - callStarted)
        }
        let elapsed = ContinuousClock.now - started
        let cpu = Self.cpuSeconds() - cpuBefore
        await client.shutdown()
        perCall.sort()
        func milliseconds(_ duration: Duration) -> Double {
            Double(duration.components.seconds) * 1e3 + Double(duration.components.attoseconds) / 1e15
        }
        let seconds = milliseconds(elapsed) / 1e3
        print(
            String(
                format: "webhook %@: %d calls in %.3f s: %.0f calls/s, p50 %.3f ms, p99 %.3f ms, "
                    + "client CPU %.1f µs/call",
                url, calls, seconds, Double(calls) / seconds, milliseconds(perCall[calls / 2]),
                milliseconds(perCall[min(calls - 1, calls * 99 / 100)]), cpu / Double(calls) * 1e6))
    }

    /// User plus system CPU time of this process.
    static func cpuSeconds() -> Double {
        var usage = rusage()
        #if canImport(Glibc)
        getrusage(RUSAGE_SELF.rawValue, &usage)
        #else
        getrusage(RUSAGE_SELF, &usage)
        #endif
        func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }
}

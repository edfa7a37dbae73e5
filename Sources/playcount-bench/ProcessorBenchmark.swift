import ArgumentParser
import Foundation
import NIOCore
import PlayCounts
import PlayLoad

/// `playcount-bench processor`: the processor's per-play CPU cost, in process and without NSQ: message parsing,
/// the publish policy, and the stats (with the lower bound), each timed over the same backlog trace.
/// The figures that decide how far the processor trails a FIN-only consumer (Scripts/bench-processor, figure 4).
struct ProcessorBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "processor",
        abstract: "Time message parsing, the publish policy and the stats per play (no NSQ); prints ns/play.")

    @Option(help: "Plays in the backlog trace.")
    var plays = 1_000_000

    @Option(help: "Plays per read batch.")
    var batch = 2_500

    @Option(help: "Videos (Zipf, exponent 1.2).")
    var videos = 100

    @Option(help: "Repetitions; the best of them is printed (the machine is shared).")
    var repeats = 3

    func validate() throws {
        guard plays > 0, batch > 0, videos > 0, repeats > 0 else { throw ValidationError("all options must be positive") }
    }

    func run() throws {
        let zipf = ZipfVideos(count: videos, exponent: 1.2)
        let trace = SyntheticTrace.backlog(seed: 7, videos: zipf, plays: plays, batchSize: batch)
        let bodies: [[ByteBuffer]] = trace.map { batch in
            batch.plays.map { ByteBuffer(string: "{\"video_id\":\"\($0.video)\"}") }
        }
        var best: [String: Double] = [:]
        for _ in 0..<repeats {
            for (name, seconds) in measureOnce(trace: trace, bodies: bodies) {
                best[name] = min(best[name] ?? .infinity, seconds)
            }
        }
        for name in ["parse", "policy", "stats", "total", "bound alone (part of stats)"] {
            let seconds = best[name] ?? 0
            let nanosecondsPerPlay = seconds * 1e9 / Double(plays)
            print("\(name): \(String(format: "%.1f", nanosecondsPerPlay)) ns/play (\(String(format: "%.3f", seconds)) s for \(plays))")
        }
    }

    private func measureOnce(trace: [TraceBatch], bodies: [[ByteBuffer]]) -> [String: Double] {
        let parser = PlayMessageParser()
        var policy = PublishPolicy()
        var recorder = StatsRecorder()
        var bound = PublishLowerBound()
        var boundTime = Duration.zero
        var parsed = 0
        var times: [String: Duration] = ["parse": .zero, "policy": .zero, "stats": .zero]
        let clock = ContinuousClock()
        for (batch, batchBodies) in zip(trace, bodies) {
            var start = clock.now
            for body in batchBodies {
                if case .success = parser.parse(body) { parsed += 1 }
            }
            times["parse", default: .zero] += clock.now - start
            start = clock.now
            let actions = policy.receive(batch.plays, now: batch.readAt)
            times["policy", default: .zero] += clock.now - start
            start = clock.now
            recorder.recordBatch(batch.plays)
            for (index, counts) in actions.calls.enumerated() {
                recorder.recordCall(PublishCall(sequence: index, publishedAt: batch.readAt, counts: counts))
            }
            times["stats", default: .zero] += clock.now - start
            start = clock.now
            bound.observe(batch: batch.plays)
            boundTime += clock.now - start
        }
        precondition(parsed == plays, "the benchmark's own bodies must parse")
        var seconds = times.mapValues { Double($0.components.seconds) + Double($0.components.attoseconds) / 1e18 }
        seconds["total"] = seconds.values.reduce(0, +)
        seconds["bound alone (part of stats)"] = Double(boundTime.components.seconds) + Double(boundTime.components.attoseconds) / 1e18
        return seconds
    }
}

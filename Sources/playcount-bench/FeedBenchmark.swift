import ArgumentParser
import Foundation
import NIOCore
import NSQ
import PlayCounts
import PlayLoad

/// `playcount-bench feed`: publishes a seed plan's plays (as `seed` makes them) to a topic, pausing while the
/// channel holds more than `--max-depth` messages. nsqd keeps its backlog in memory, so a long run fed at once
/// would measure the broker's memory more than the consumer's; paced by the depth, the feed follows the
/// consumer's own rate and the backlog stays bounded. Plays of one plan always go over the same videos.
struct FeedBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "feed",
        abstract: "Publish a seed plan's plays, keeping the channel's depth bounded; prints plays/s.")

    @Option(name: .customLong("nsqd-tcp-address"), help: "nsqd TCP address to publish to.")
    var nsqdTCPAddress = "127.0.0.1:4150"

    @Option(name: .customLong("nsqd-http-address"), help: "nsqd HTTP address, read for the channel's depth.")
    var nsqdHTTPAddress = "127.0.0.1:4151"

    @Option(help: "Topic to publish to.")
    var topic = "plays"

    @Option(help: "Channel whose depth paces the feed.")
    var channel = "processor"

    @Option(help: "How many plays.")
    var plays = 10_000_000

    @Option(help: "How many videos.")
    var videos = 1_000_000

    @Option(help: "How plays spread over videos (as seed: zipf, zipf:EXPONENT, uniform, …).")
    var distribution = "zipf"

    @Option(help: "Seed for the video ids and the order of plays.")
    var seed: UInt64 = 1

    @Option(name: .customLong("max-depth"), help: "Pause while the channel holds more than this many messages.")
    var maxDepth = 100_000

    @Option(help: "Messages per MPUB.")
    var batch = 5_000

    func validate() throws {
        guard plays >= 0, videos >= 1 else { throw ValidationError("--plays must be ≥ 0 and --videos ≥ 1") }
        guard maxDepth >= 0, batch >= 1 else { throw ValidationError("--max-depth must be ≥ 0 and --batch ≥ 1") }
    }

    func run() async throws {
        let plan: SeedPlan
        do {
            plan = try SeedPlan(
                plays: plays, videos: videos, distribution: try SeedDistribution(parsing: distribution), seed: seed)
        } catch {
            throw ValidationError("\(error)")
        }
        let producer = NSQProducer(address: nsqdTCPAddress)
        let clock = ContinuousClock()
        let start = clock.now
        var published = 0
        var paused: Duration = .zero
        var deepest = 0
        var chunk: [ByteBuffer] = []
        chunk.reserveCapacity(batch)
        var nextReport = 1_000_000
        func flush() async throws {
            guard !chunk.isEmpty else { return }
            let pauseStart = clock.now
            while true {
                let backlog = try await NSQDHTTPAPI.backlog(topic: topic, channel: channel, nsqdHTTPAddress: nsqdHTTPAddress)
                deepest = max(deepest, backlog.depth)
                if backlog.depth <= maxDepth { break }
                try await Task.sleep(for: .milliseconds(10))
            }
            paused += clock.now - pauseStart
            try await producer.publishBatched(topic: topic, bodies: chunk, batchCount: batch, maxOutstanding: 1)
            published += chunk.count
            chunk.removeAll(keepingCapacity: true)
            if published >= nextReport {
                FileHandle.standardError.write(Data(
                    "feed: \(published) plays in \(String(format: "%.1f", seconds(clock.now - start))) s\n".utf8))
                nextReport += 1_000_000
            }
        }
        for video in plan.messages {
            chunk.append(ByteBuffer(bytes: SeedPlan.body(for: video)))
            if chunk.count == batch { try await flush() }
        }
        try await flush()
        await producer.close()
        let elapsed = seconds(clock.now - start)
        let withPlays = plan.counts.filter { $0 > 0 }.count
        print(
            "feed: \(published) plays over \(plan.videos.count) videos (\(withPlays) with plays) in "
                + "\(String(format: "%.3f", elapsed)) s = \(Int(Double(published) / max(elapsed, 1e-9))) plays/s; "
                + "paused \(String(format: "%.1f", seconds(paused))) s, deepest backlog \(deepest)")
    }

    private func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}

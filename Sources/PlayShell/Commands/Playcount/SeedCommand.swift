import ArgumentParser
import Foundation
import NSQ
import PlayCounts
import PlayLoad
import ShellKit

/// `seed N DIST`: publishes N synthetic plays over V videos and remembers the plan for `expect counts == seeded`.
struct SeedCommand: ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "seed",
        abstract: "Publish synthetic plays to the topic.",
        discussion: """
            DISTRIBUTION is zipf (zipf:EXPONENT), uniform, weights:W1,W2,… or counts:C1,C2,…. At least \
            --small videos get fewer than 100 plays. The same --seed gives the same videos and order. \
            Without --rate the plays are published as fast as the broker takes them (MPUB batches).
            """)

    @Argument(help: "How many plays to publish.")
    var count: Int

    @Argument(
        help: ArgumentHelp("How plays spread over videos.", valueName: "distribution"),
        completion: .list(["zipf", "uniform", "zipf:1.2", "weights:", "counts:"]))
    var distribution: String = "zipf"

    @Option(help: "How many videos.")
    var videos: Int = SeedPlan.defaultVideos

    @Option(help: "At least this many videos get fewer than 100 plays.")
    var small: Int = SeedPlan.defaultSmallVideos

    @Option(help: "Seed for the video ids and the order of plays.")
    var seed: UInt64 = 1

    @Option(help: "Plays per second (0: as fast as possible).")
    var rate: Double = 0

    @Option(help: ArgumentHelp(
        "Publish straight to the partition topics <topic>.p0 … <topic>.p<K-1> (each play to its video's), as a router would.",
        valueName: "K"))
    var partitions: Int?

    @OptionGroup var output: OutputOptions

    func validate() throws {
        guard count >= 0 else { throw ValidationError("the play count must not be negative") }
        guard rate >= 0, rate.isFinite else { throw ValidationError("--rate must be 0 or more") }
        if let partitions, !(1...Partition.maxCount).contains(partitions) {
            throw ValidationError("--partitions must be between 1 and \(Partition.maxCount)")
        }
    }

    func run(in shell: ShellContext) async throws {
        let plan: SeedPlan
        do {
            let distribution = try SeedDistribution(parsing: distribution)
            plan = try SeedPlan(
                plays: count, videos: videos, distribution: distribution, minimumSmallVideos: small, seed: seed)
        } catch {
            throw ShellError("\(error)")
        }
        let rate = rate
        let (_, seconds) = try await shell.publishPlays("seed", total: plan.totalPlays, partitions: partitions) { publisher in
            if rate > 0 {
                let interval = 1e9 / rate
                let schedule = plan.messages.enumerated().lazy.map {
                    (dueNanoseconds: Int64(Double($0.offset) * interval), video: $0.element)
                }
                try await publisher.publishScheduled(schedule, total: plan.totalPlays)
            } else {
                try await publisher.publishAll(plan.messages, total: plan.totalPlays)
            }
        }
        let topic = shell.settings[.topic]
        let report = SeedReport(
            plan: plan, topic: partitions.map { "\(topic).p0…p\($0 - 1)" } ?? topic, seconds: seconds)
        try shell.report(report, json: output.json) { report in report.table }
    }
}

/// What `seed` prints: the plan, per video, for people and for `--json`.
struct SeedReport: Encodable {
    struct Video: Encodable {
        let videoID: String
        let plays: Int
        enum CodingKeys: String, CodingKey {
            case videoID = "video_id"
            case plays
        }
    }

    let topic: String
    let plays: Int
    let videos: Int
    let smallVideos: Int
    let seconds: Double
    let perVideo: [Video]

    enum CodingKeys: String, CodingKey {
        case topic, plays, videos, seconds
        case smallVideos = "small_videos"
        case perVideo = "per_video"
    }

    init(plan: SeedPlan, topic: String, seconds: Double) {
        self.topic = topic
        self.plays = plan.totalPlays
        self.videos = plan.videos.count
        self.smallVideos = plan.smallVideoCount
        self.seconds = seconds
        self.perVideo = plan.videoCounts.map { Video(videoID: $0.video.description, plays: $0.plays) }
    }

    var table: Table {
        let rate = seconds > 0 ? String(format: "%.0f", Double(plays) / seconds) : "-"
        let sorted = perVideo.map(\.plays).sorted(by: >)
        return Table(
            columns: ["TOPIC", "PLAYS", "VIDEOS", "UNDER 100", "MOST", "LEAST", "SECONDS", "PLAYS/S"],
            rows: [[
                topic, String(plays), String(videos), String(smallVideos), String(sorted.first ?? 0),
                String(sorted.last ?? 0), String(format: "%.2f", seconds), rate,
            ]])
    }
}

extension Duration {
    /// The duration in seconds, as a Double.
    var secondsValue: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}

import ArgumentParser
import PlayCounts
import ShellKit

/// `counts`: per video, what was published to the topic, what the processor counted, what the client shows.
struct CountsCommand: ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "counts",
        abstract: "Show each video's seeded, counted and published plays.",
        discussion: """
            CLIENT is '-' when the run kept no client counts in memory (audit-memory 0, or serve without \
            audit-memory).
            """)

    @Option(help: "Show only the N videos with the most plays (0: all).")
    var top: Int = 0

    @OptionGroup var output: OutputOptions

    func run(in shell: ShellContext) async throws {
        let rows = await CountRow.gather(in: shell)
        let shown = top > 0 ? Array(rows.prefix(top)) : rows
        try shell.report(shown, json: output.json) { rows in
            Table(
                columns: ["VIDEO", "SEEDED", "COUNTED", "CLIENT"],
                rows: rows.map { [$0.videoID, String($0.seeded), String($0.counted), $0.client.map(String.init) ?? "-"] })
        }
    }
}

struct CountRow: Encodable {
    let videoID: String
    let seeded: Int
    let counted: Int
    /// Nil when the run kept no client counts (`audit-memory` 0); left out of the JSON then.
    let client: Int?

    enum CodingKeys: String, CodingKey {
        case videoID = "video_id"
        case seeded, counted, client
    }

    /// Every video known to this shell, most plays first.
    static func gather(in shell: ShellContext) async -> [CountRow] {
        let expected = shell.app.expectedCounts
        let session = shell.app.latestSession
        let counted = await session?.processor.counts() ?? [:]
        // No session: the client was shown nothing. A session that kept no counts: unknown.
        let client = session == nil ? [:] : session?.client.lastCounts
        var videos = Set(expected.keys).union(counted.keys)
        if let client { videos.formUnion(client.keys) }
        return videos.map { video in
            CountRow(
                videoID: video.description, seeded: expected[video] ?? 0, counted: counted[video] ?? 0,
                client: client.map { $0[video] ?? 0 })
        }.sorted { ($0.seeded, $0.counted, $0.videoID) > ($1.seeded, $1.counted, $1.videoID) }
    }
}

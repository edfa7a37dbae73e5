import PlayCounts
import ShellKit

/// `client stdout` at the interactive prompt: one short line per call for a person (`call 67 · 20 videos ·
/// +312 plays`) instead of a 2 KB JSON line, through the shell's output, so it is written above the line being
/// edited. Pipes, files and scripts keep the JSON lines of ``StdoutPublishClient``.
actor TerminalCallPrinter: PublishClient {
    private let out: ShellWriter
    /// The count last shown for each video, for the `+N plays` the call adds.
    private var shown: [VideoID: Int] = [:]

    init(out: ShellWriter) { self.out = out }

    nonisolated var description: String { "stdout" }

    func publish(_ call: PublishCall) async throws {
        var added = 0
        for count in call.counts {
            added += max(0, count.plays - (shown[count.video] ?? 0))
            shown[count.video] = count.plays
        }
        out.print(Self.line(call, added: added))
    }

    static func line(_ call: PublishCall, added: Int) -> String {
        let videos = call.counts.count == 1 ? "1 video" : "\(call.counts.count) videos"
        return "call \(call.sequence) · \(videos) · +\(added) play\(added == 1 ? "" : "s")"
    }
}

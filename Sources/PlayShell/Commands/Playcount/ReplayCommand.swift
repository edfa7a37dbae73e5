import ArgumentParser
import Foundation
import PlayCounts
import PlayLoad
import ShellKit

/// `replay FILE`: publishes a recorded trace of plays on its original schedule (or faster).
struct ReplayCommand: ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Publish the plays of a trace file on schedule.",
        discussion: """
            The trace holds JSON lines {"at_ms": OFFSET, "video_id": "GUID"} (other keys are ignored, so a \
            receipt log written with 'set record FILE' replays as is). Every bad line is reported as \
            FILE:LINE and nothing is published unless --skip-bad-lines is given.
            """)

    @Argument(help: "The trace file.", completion: .file())
    var file: String

    @Option(help: "Replay this many times faster (inf: all at once).")
    var speed: Double = 1

    @Flag(help: "Publish the good lines even if some are bad.")
    var skipBadLines = false

    @OptionGroup var output: OutputOptions

    func validate() throws {
        guard speed > 0 else { throw ValidationError("--speed must be positive") }
    }

    func run(in shell: ShellContext) async throws {
        let path = shell.resolvePath(file)
        let parsed: TraceParseResult
        do {
            parsed = try TraceParser.parse(fileAt: path)
        } catch {
            throw ShellError("cannot read trace: \(error)")
        }
        if !parsed.errors.isEmpty {
            for error in parsed.errors.prefix(20) { shell.err.print("\(file):\(error.line): error: \(error.message)") }
            if parsed.errors.count > 20 { shell.err.print("\(file): … and \(parsed.errors.count - 20) more bad lines") }
            if !skipBadLines {
                throw ShellError("\(parsed.errors.count) bad line(s) in \(file); nothing published")
            }
        }
        let schedule: TraceSchedule
        do {
            schedule = try TraceSchedule(records: parsed.records, speed: speed)
        } catch {
            throw ShellError("\(error)")
        }
        let (plays, seconds) = try await shell.publishPlays("replay", total: schedule.count) { publisher in
            try await publisher.publishScheduled(
                schedule.lazy.map { (dueNanoseconds: $0.dueNanoseconds, video: $0.video) }, total: schedule.count)
        }
        let report = ReplayReport(file: file, plays: plays, badLines: parsed.errors.count, seconds: seconds)
        try shell.report(report, json: output.json) { report in
            Table(
                columns: ["FILE", "PLAYS", "BAD LINES", "SECONDS"],
                rows: [[report.file, String(report.plays), String(report.badLines), String(format: "%.2f", report.seconds)]])
        }
    }
}

struct ReplayReport: Encodable {
    let file: String
    let plays: Int
    let badLines: Int
    let seconds: Double
    enum CodingKeys: String, CodingKey {
        case file, plays, seconds
        case badLines = "bad_lines"
    }
}

import ArgumentParser
import Foundation
import PlayCounts
import PlayService
import ShellKit

/// `audit [PUBLISH_LOG…] [--receipts RECEIPT_LOG]…`: checks what the client was shown against what the processor
/// (or every owner of a partitioned deployment) received, rule by rule.
struct AuditCommand: ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Check the publish calls against the plays received, rule by rule.",
        discussion: """
            Without arguments, checks the current (or last) run from memory: the plays and calls it kept, up \
            to audit-memory (serve keeps none unless it is set). With PUBLISH_LOG (the lines a file: client \
            wrote), checks that log against --receipts RECEIPT_LOG (written with 'set record FILE') or, \
            without it, against this run's plays.

            A partitioned deployment is audited as one run: give every owner's publish log (or the client's \
            one log of all calls) and every owner's --receipts. Each partition's calls are checked in their \
            own sequence; across them, every call must name the same number of partitions and carry only the \
            videos its partition's hash gives it. The report lists each partition.

            Limits: what comes from memory is checked against the configuration that run was started with; \
            a publish log with --receipts (any run's files) against the current settings realtime-threshold \
            and max-staleness, the ones 'start' would use. At most 20 videos per call. The report names the \
            limits it used.

            A call that repeats the latest call's sequence is a resend of that call (after a crash or a lost \
            acknowledgement; the client dedupes it by Idempotency-Key), not a new publish: it may carry the \
            counts already sent, but must keep every video of that call with a count at least as high. \
            Resends are counted in the report; a sequence lower than an earlier one is a violation.

            Prints each violation and a summary. Finding violations does not make 'audit' fail: it fails \
            only when it cannot read its inputs, or with --strict. In a script, 'expect audit ok' (the run \
            in memory) or 'audit FILE --receipts LOG --strict' stops the script on a violation.
            """)

    @Argument(help: "Publish logs (JSON lines of a file: client), one per owner or one for all.", completion: .file())
    var publishLogs: [String] = []

    @Option(help: "A receipt log written with 'set record FILE'; repeat it for each owner.", completion: .file())
    var receipts: [String] = []

    @Flag(help: "Also list plays that were already past their deadline when read.")
    var showLate = false

    @Flag(help: "Fail (stop the script, exit non-zero) when the audit finds a violation.")
    var strict = false

    @OptionGroup var output: OutputOptions

    func run(in shell: ShellContext) async throws {
        let report = try await AuditReport.make(publishLogs: publishLogs, receipts: receipts, in: shell)
        if output.json {
            try shell.printJSON(report)
        } else {
            printTable(report, in: shell)
        }
        if strict, !report.ok {
            throw ShellError("audit: \(report.avoidableViolations) violation(s)")
        }
    }

    private func printTable(_ report: AuditReport, in shell: ShellContext) {
        let listed = report.violations.filter { !$0.lateOnArrival || showLate }
        if !listed.isEmpty {
            shell.printTable(Table(
                columns: ["RULE", "CALL", "VIDEO", "DETAIL"],
                rows: listed.map {
                    [$0.rule + ($0.lateOnArrival ? " (read late)" : ""), $0.sequence.map(String.init) ?? "-",
                     $0.video ?? "-", $0.detail]
                }))
        }
        if report.partitions.count > 1 || report.partitions.contains(where: { $0.partition != nil }) {
            shell.printTable(Table(
                columns: ["PARTITION", "PLAYS", "CALLS", "RESENDS", "VIDEOS"],
                rows: report.partitions.map {
                    [$0.partition ?? "-", String($0.plays), String($0.calls), String($0.resends), String($0.videos)]
                }))
        }
        shell.out.print(report.summary)
    }
}

/// The outcome of an audit: what was checked, against which limits, and every violation found.
struct AuditReport: Encodable {
    struct Violation: Encodable {
        let rule: String
        let sequence: Int?
        let video: String?
        let detail: String
        /// The play was read after its deadline had passed: the queue delivered it too late for any policy.
        let lateOnArrival: Bool
        /// When the rule was broken (nanoseconds since the epoch): the call's time or the missed deadline.
        let atNs: WallNanoseconds?

        enum CodingKeys: String, CodingKey {
            case rule, sequence, video, detail
            case lateOnArrival = "late_on_arrival"
            case atNs = "at_ns"
        }
    }

    /// The limits the run was checked against, and where they came from.
    struct Limits: Encodable {
        /// "processor": the configuration of the run audited from memory; "settings": the shell's settings.
        let source: String
        let realtimeThreshold: Int
        let maxStalenessNs: WallNanoseconds
        let maxVideosPerCall: Int
        let realtimeGraceNs: WallNanoseconds

        enum CodingKeys: String, CodingKey {
            case source
            case realtimeThreshold = "realtime_threshold"
            case maxStalenessNs = "max_staleness_ns"
            case maxVideosPerCall = "max_videos_per_call"
            case realtimeGraceNs = "realtime_grace_ns"
        }

        /// "realtime threshold 100 plays (visible within 1 s of the read), max staleness 3 s, at most 20 videos per
        /// call, from the settings".
        var summary: String {
            "realtime threshold \(realtimeThreshold) plays (visible within \(AuditReport.duration(realtimeGraceNs)) "
                + "of the read), max staleness \(AuditReport.duration(maxStalenessNs)), "
                + "at most \(maxVideosPerCall) videos per call, "
                + (source == Self.fromSettings ? "from the settings" : "as the processor ran")
        }

        static let fromSettings = "settings"
        static let fromProcessor = "processor"
    }

    let plays: Int
    let calls: Int
    /// Calls that repeated the latest call's sequence (resends after a lost acknowledgement).
    let resends: Int
    let limits: Limits
    let violations: [Violation]
    /// What each partition's owner published: one entry per partition that made a call.
    let partitions: [PartitionReport]

    struct PartitionReport: Encodable {
        /// `k/K`, nil for a processor without partitions.
        let partition: String?
        let plays: Int
        let calls: Int
        let resends: Int
        let videos: Int
    }
    /// No violation the processor could have avoided (plays read after their deadline are reported, not held
    /// against it).
    var ok: Bool { violations.allSatisfy(\.lateOnArrival) }
    var lateOnArrival: Int { violations.filter(\.lateOnArrival).count }
    var avoidableViolations: Int { violations.count - lateOnArrival }

    enum CodingKeys: String, CodingKey {
        case plays, calls, resends, limits, violations, ok, partitions
        case lateOnArrival = "late_on_arrival"
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(plays, forKey: .plays)
        try container.encode(calls, forKey: .calls)
        try container.encode(resends, forKey: .resends)
        try container.encode(limits, forKey: .limits)
        try container.encode(violations, forKey: .violations)
        try container.encode(ok, forKey: .ok)
        try container.encode(lateOnArrival, forKey: .lateOnArrival)
        try container.encode(partitions, forKey: .partitions)
    }

    var summary: String {
        let resent = resends == 0 ? "" : " (\(resends) of them resends)"
        let late = lateOnArrival == 0
            ? "" : "; \(lateOnArrival) play(s) were already past their deadline when read (--show-late lists them)"
        let head = ok
            ? "audit ok: \(plays) plays, \(calls) calls\(resent), no violation by the processor"
            : "audit: \(avoidableViolations) violation(s) in \(plays) plays, \(calls) calls\(resent)"
        return head + late + "\nchecked against: " + limits.summary
    }

    /// "3 s", "250 ms", "1.5 s", "0.2 ms".
    static func duration(_ nanoseconds: WallNanoseconds) -> String {
        if nanoseconds % 1_000_000_000 == 0 { return "\(nanoseconds / 1_000_000_000) s" }
        if nanoseconds >= 1_000_000_000 { return "\(Double(nanoseconds) / 1e9) s" }
        if nanoseconds % 1_000_000 == 0 { return "\(nanoseconds / 1_000_000) ms" }
        return "\(Double(nanoseconds) / 1e6) ms"
    }

    /// Reads one log file and parses it, naming the file and line of the first bad line.
    private static func parseFile<Record>(
        _ path: String, in shell: ShellContext, _ parse: (String) throws(LogParseError) -> [Record]
    ) throws -> [Record] {
        let text = try read(shell.resolvePath(path))
        do {
            return try parse(text)
        } catch {
            throw ShellError("\(path):\(error.line): \(error.reason)")
        }
    }

    static func make(publishLogs: [String], receipts receiptPaths: [String], in shell: ShellContext) async throws -> AuditReport {
        let session = shell.app.latestSession
        let calls: [PublishCall]
        if !publishLogs.isEmpty {
            calls = try publishLogs.flatMap { publishLog in
                try parseFile(publishLog, in: shell) { text throws(LogParseError) in try PublishLog.parse(text: text) }
            }
        } else {
            guard let session else { throw ShellError("the processor has not run yet; give a publish log") }
            switch session.client.calls {
            case .success(let recorded): calls = recorded
            case .failure(let shortfall): throw unauditable(shortfall, what: "publish calls", unit: "video counts")
            }
        }
        let receipts: [ReceiptRecord]
        if !receiptPaths.isEmpty {
            receipts = ReceiptLog.merge(try receiptPaths.map { receiptPath in
                try parseFile(receiptPath, in: shell) { text throws(LogParseError) in try ReceiptLog.parse(text: text) }
            })
        } else {
            guard let session else { throw ShellError("the processor has not run yet; give --receipts") }
            switch session.receipts.records {
            case .success(let recorded): receipts = recorded
            case .failure(let shortfall): throw unauditable(shortfall, what: "plays", unit: "plays")
            }
        }
        // What comes from memory was made under that processor's configuration. Two files may come from any run,
        // so they are checked against the settings as they are now: the ones `start` would use.
        let configuration: PublishPolicyConfiguration
        let source: String
        if publishLogs.isEmpty || receiptPaths.isEmpty, let session {
            configuration = session.configuration.policy
            source = Limits.fromProcessor
        } else {
            configuration = shell.settings.publishPolicyConfiguration
            source = Limits.fromSettings
        }
        let result = PublishAudit.audit(receipts: receipts, calls: calls, configuration: configuration)
        return AuditReport(
            plays: result.plays, calls: calls.count, resends: result.resends,
            limits: Limits(
                source: source, realtimeThreshold: configuration.realtimeThreshold,
                maxStalenessNs: configuration.maxStaleness, maxVideosPerCall: configuration.maxVideosPerCall,
                realtimeGraceNs: result.realtimeGrace),
            violations: result.violations.map {
                Violation(
                    rule: $0.rule.rawValue, sequence: $0.sequence, video: $0.video?.description, detail: $0.detail,
                    lateOnArrival: $0.unavoidable, atNs: $0.at)
            },
            partitions: result.partitions.map {
                PartitionReport(
                    partition: $0.partition?.description, plays: $0.plays, calls: $0.calls, resends: $0.resends,
                    videos: $0.videos)
            })
    }

    /// Why this run cannot be audited from memory, and how to audit it instead.
    static func unauditable(_ shortfall: KeptRecordsShortfall, what: String, unit: String) -> ShellError {
        let why: String
        switch shortfall {
        case .notKept:
            why = "this run kept no \(what) in memory for audit (audit-memory 0; serve keeps none unless it is set)"
        case .overflowed(let limit):
            why = "this run's \(what) exceeded what audit-memory keeps in memory (\(limit) \(unit)), so none were kept"
        }
        return ShellError(
            "cannot audit from memory: \(why). Audit files instead: before 'start', 'set record FILE' and "
                + "'set client file:PATH', then 'audit PATH --receipts FILE' (or raise audit-memory)")
    }

    private static func read(_ path: String) throws -> String {
        do {
            return try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ShellError("cannot read \(path): \(error.localizedDescription)")
        }
    }
}

import ArgumentParser
import Foundation
import PlayCounts

/// `audit [PUBLISH_LOG]`: checks what the client was shown against what the processor received, rule by rule.
struct AuditCommand: ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Check the publish calls against the plays received, rule by rule.",
        discussion: """
            Without arguments, checks the current (or last) run from memory: the plays and calls it kept, up \
            to audit-memory (serve keeps none unless it is set). With PUBLISH_LOG (the lines a file: client \
            wrote), checks that log against --receipts RECEIPT_LOG (written with 'set record FILE') or, \
            without it, against this run's plays. Prints each violation; 'expect audit ok' fails the script \
            when there is any.
            """)

    @Argument(help: "A publish log (JSON lines of a file: client).", completion: .file())
    var publishLog: String?

    @Option(help: "A receipt log written with 'set record FILE'.", completion: .file())
    var receipts: String?

    @Flag(help: "Also list plays that were already past their deadline when read.")
    var showLate = false

    @OptionGroup var output: OutputOptions

    func run(in shell: ShellContext) async throws {
        let report = try await AuditReport.make(publishLog: publishLog, receipts: receipts, in: shell)
        if output.json {
            try shell.printJSON(report)
            return
        }
        let listed = report.violations.filter { !$0.lateOnArrival || showLate }
        if !listed.isEmpty {
            shell.printTable(Table(
                columns: ["RULE", "CALL", "VIDEO", "DETAIL"],
                rows: listed.map {
                    [$0.rule + ($0.lateOnArrival ? " (read late)" : ""), $0.sequence.map(String.init) ?? "-",
                     $0.video ?? "-", $0.detail]
                }))
        }
        shell.out.print(report.summary)
    }
}

/// The outcome of an audit: what was checked and every violation found.
struct AuditReport: Encodable {
    struct Violation: Encodable {
        let rule: String
        let sequence: Int?
        let video: String?
        let detail: String
        /// The play was read after its deadline had passed: the queue delivered it too late for any policy.
        let lateOnArrival: Bool

        enum CodingKeys: String, CodingKey {
            case rule, sequence, video, detail
            case lateOnArrival = "late_on_arrival"
        }
    }

    let plays: Int
    let calls: Int
    let violations: [Violation]
    /// No violation the processor could have avoided (plays read after their deadline are reported, not held
    /// against it).
    var ok: Bool { violations.allSatisfy(\.lateOnArrival) }
    var lateOnArrival: Int { violations.filter(\.lateOnArrival).count }

    enum CodingKeys: String, CodingKey {
        case plays, calls, violations, ok
        case lateOnArrival = "late_on_arrival"
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(plays, forKey: .plays)
        try container.encode(calls, forKey: .calls)
        try container.encode(violations, forKey: .violations)
        try container.encode(ok, forKey: .ok)
        try container.encode(lateOnArrival, forKey: .lateOnArrival)
    }

    var summary: String {
        let late = lateOnArrival == 0
            ? "" : "; \(lateOnArrival) play(s) were already past their deadline when read (--show-late lists them)"
        return ok
            ? "audit ok: \(plays) plays, \(calls) calls, no violation by the processor\(late)"
            : "audit: \(violations.count - lateOnArrival) violation(s) in \(plays) plays, \(calls) calls\(late)"
    }

    static func make(publishLog: String?, receipts receiptPath: String?, in shell: ShellContext) async throws -> AuditReport {
        let session = shell.app.latestSession
        let configuration = session?.configuration.policy ?? PublishPolicyConfiguration()
        let calls: [PublishCall]
        if let publishLog {
            let text = try read(shell.resolvePath(publishLog))
            do {
                calls = try PublishLog.parse(text: text)
            } catch {
                throw ShellError("\(publishLog):\(error.line): \(error.reason)")
            }
        } else {
            guard let session else { throw ShellError("the processor has not run yet; give a publish log") }
            switch session.client.calls {
            case .success(let recorded): calls = recorded
            case .failure(let shortfall): throw unauditable(shortfall, what: "publish calls", unit: "video counts")
            }
        }
        let receipts: [ReceiptRecord]
        if let receiptPath {
            let text = try read(shell.resolvePath(receiptPath))
            do {
                receipts = try ReceiptLog.parse(text: text)
            } catch {
                throw ShellError("\(receiptPath):\(error.line): \(error.reason)")
            }
        } else {
            guard let session else { throw ShellError("the processor has not run yet; give --receipts") }
            switch session.receipts.records {
            case .success(let recorded): receipts = recorded
            case .failure(let shortfall): throw unauditable(shortfall, what: "plays", unit: "plays")
            }
        }
        let violations = PublishAudit.check(receipts: receipts, calls: calls, configuration: configuration)
        return AuditReport(
            plays: receipts.count, calls: calls.count,
            violations: violations.map {
                Violation(
                    rule: $0.rule.rawValue, sequence: $0.sequence, video: $0.video?.description, detail: $0.detail,
                    lateOnArrival: $0.unavoidable)
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

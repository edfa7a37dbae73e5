import ArgumentParser
import Foundation
import PlayCounts

/// `audit [PUBLISH_LOG]`: checks what the client was shown against what the processor received, rule by rule.
struct AuditCommand: ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Check the publish calls against the plays received, rule by rule.",
        discussion: """
            Without arguments, checks the current (or last) run from memory. With PUBLISH_LOG (the lines a \
            file: client wrote), checks that log against --receipts RECEIPT_LOG (written with 'set record \
            FILE') or, without it, against this run's plays. Prints each violation; 'expect audit ok' fails \
            the script when there is any.
            """)

    @Argument(help: "A publish log (JSON lines of a file: client).", completion: .file())
    var publishLog: String?

    @Option(help: "A receipt log written with 'set record FILE'.", completion: .file())
    var receipts: String?

    @OptionGroup var output: OutputOptions

    func run(in shell: ShellContext) async throws {
        let report = try await AuditReport.make(publishLog: publishLog, receipts: receipts, in: shell)
        if output.json {
            try shell.printJSON(report)
            return
        }
        if !report.ok {
            var table = Table(columns: ["RULE", "CALL", "VIDEO", "DETAIL"])
            for violation in report.violations {
                table.append([
                    violation.rule, violation.sequence.map(String.init) ?? "-", violation.video ?? "-",
                    violation.detail,
                ])
            }
            shell.printTable(table)
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
    }

    let plays: Int
    let calls: Int
    let violations: [Violation]
    var ok: Bool { violations.isEmpty }

    enum CodingKeys: String, CodingKey { case plays, calls, violations, ok }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(plays, forKey: .plays)
        try container.encode(calls, forKey: .calls)
        try container.encode(violations, forKey: .violations)
        try container.encode(ok, forKey: .ok)
    }

    var summary: String {
        ok ? "audit ok: \(plays) plays, \(calls) calls, no violation"
            : "audit: \(violations.count) violation(s) in \(plays) plays, \(calls) calls"
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
            guard let recorded = session.client.calls else {
                throw ShellError("too many calls to audit from memory; audit the client's file: log")
            }
            calls = recorded
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
            guard let recorded = session.receipts.records else {
                throw ShellError("too many plays to audit from memory; use 'set record FILE' and --receipts")
            }
            receipts = recorded
        }
        let violations = PublishAudit.check(receipts: receipts, calls: calls, configuration: configuration)
        return AuditReport(
            plays: receipts.count, calls: calls.count,
            violations: violations.map {
                Violation(rule: $0.rule.rawValue, sequence: $0.sequence, video: $0.video?.description, detail: $0.detail)
            })
    }

    private static func read(_ path: String) throws -> String {
        do {
            return try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ShellError("cannot read \(path): \(error.localizedDescription)")
        }
    }
}

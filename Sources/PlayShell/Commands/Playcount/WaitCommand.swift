import ArgumentParser
import Foundation
import PlayCounts
import ShellKit

/// `wait drained|DURATION`: lets a script wait for the processor to catch up, deterministically.
struct WaitCommand: ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "wait",
        abstract: "Wait until the queue is drained and nothing is held, or for a while.",
        discussion: """
            'wait drained' returns once the queue is empty (depth, in-flight and deferred zero), every read \
            batch is processed, nothing is held and no call is pending. Held videos are published at their \
            deadline, so this can take up to max-staleness. For an external nsqd the depth is read from its \
            HTTP API: set nsqd-http-address, or use lookupd-http-address (lookupd lists it). 'wait 2s' just \
            waits.
            """)

    @Argument(
        help: ArgumentHelp("'drained' or a duration such as 2s.", valueName: "drained|duration"),
        completion: .list(["drained"]))
    var what: String

    @Option(help: "Fail if not drained within this time.")
    var timeout: ShellDuration?

    func validate() throws {
        if what != "drained", ShellDuration(argument: what) == nil {
            throw ValidationError("expected 'drained' or a duration such as 2s, got '\(what)'")
        }
    }

    func run(in shell: ShellContext) async throws {
        if what != "drained", let duration = ShellDuration(argument: what) {
            try await Task.sleep(for: duration.duration)
            return
        }
        _ = try shell.runningSession()
        let deadline = timeout.map { ContinuousClock.now + $0.duration }
        while true {
            try Task.checkCancellation()
            if try await Self.isDrained(in: shell) { return }
            if let deadline, ContinuousClock.now >= deadline {
                throw ShellError("not drained after \(timeout?.description ?? "")")
            }
            // Polls a condition; each check is cheap (in-process counters, no sockets for the embedded broker).
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    static func isDrained(in shell: ShellContext) async throws -> Bool {
        let session = try shell.runningSession()
        let report = await StatusReport.gather(in: shell)
        guard let queue = report.queue else {
            throw ShellError(
                "cannot see the queue depth of the external nsqd: set nsqd-http-address (or lookupd-http-address)")
        }
        if queue.depth > 0 || queue.inFlight > 0 || queue.deferred > 0 { return false }
        if report.connections.contains(where: { $0.inFlight > 0 }) { return false }
        if report.connections.allSatisfy({ $0.state != "subscribed" }) { return false }
        if session.isProcessing { return false }
        guard let status = report.processorStatus else { return false }
        return status.heldVideos == 0 && status.pendingCalls == 0
    }
}

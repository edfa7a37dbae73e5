import Foundation
import Logging
import NIOCore
import NSQ
import NSQBroker
import PlayCounts
import PlayService
import Locking
import ShellKit

/// The app the shell drives: the embedded broker, the running processor, producers, and what was seeded
/// (for `expect counts == seeded`). One per shell, in `shell.app`.
final class PlaycountApp: Sendable {
    let broker = EmbeddedBroker()
    private let currentSession = Locked<PlayPipeline?>(nil)
    private let currentRouter = Locked<PlayRouter?>(nil)
    private let lastSession = Locked<PlayPipeline?>(nil)
    private let producers = Locked<[String: NSQProducer]>([:])
    private let expected = Locked<[VideoID: Int]>([:])
    /// The operations endpoints and the web page, when asked for.
    let http = HTTPEndpoints()

    /// Where NSQ is: the configured addresses, or the embedded broker (started on demand).
    struct Target: Sendable {
        var nsqdTCPAddresses: [String]
        var lookupdHTTPAddresses: [String]
        /// Set when the embedded broker is the target.
        var embedded: NSQBroker?
    }

    func target(in shell: ShellContext) async throws -> Target {
        let nsqd = addressList(shell.settings[.nsqdTCPAddress])
        let lookupd = addressList(shell.settings[.lookupdHTTPAddress])
        if nsqd.isEmpty, lookupd.isEmpty {
            let embedded: NSQBroker
            do {
                embedded = try await broker.start()
            } catch {
                throw ShellError("cannot start the embedded broker: \(error)")
            }
            return Target(nsqdTCPAddresses: [embedded.tcpAddressText], lookupdHTTPAddresses: [], embedded: embedded)
        }
        return Target(nsqdTCPAddresses: nsqd, lookupdHTTPAddresses: lookupd, embedded: nil)
    }

    /// A producer connected to the nsqd that `seed` and `replay` publish to.
    func producer(for topic: String, in shell: ShellContext) async throws -> NSQProducer {
        let target = try await target(in: shell)
        var address = target.nsqdTCPAddresses.first
        if address == nil {
            for lookupd in target.lookupdHTTPAddresses {
                if let found = try? await NSQLookupd.producers(topic: topic, lookupd: lookupd).first {
                    address = found
                    break
                }
            }
        }
        guard let address else {
            throw ShellError(
                "no nsqd to publish to: lookupd knows no nsqd with topic '\(topic)'; set nsqd-tcp-address")
        }
        return self.producer(at: address)
    }

    /// The one producer of this shell for the nsqd at `address` (TCP `HOST:PORT`).
    func producer(at address: String) -> NSQProducer {
        producers.withLock { producers in
            if let existing = producers[address] { return existing }
            let producer = NSQProducer(address: address)
            producers[address] = producer
            return producer
        }
    }

    // MARK: The router

    /// The running router (`route`), if any.
    var router: PlayRouter? { currentRouter.current }

    func setRouter(_ router: PlayRouter) throws {
        try currentRouter.withLock { current in
            if current != nil { throw ShellError("a router is already running in this shell") }
            current = router
        }
    }

    func clearRouter(_ router: PlayRouter) {
        currentRouter.withLock { current in
            if current === router { current = nil }
        }
    }

    // MARK: The processor

    /// The running processor, if `start` was given and not yet `stop`.
    var session: PlayPipeline? { currentSession.current }

    /// The running processor, or the last one stopped (for `stats`, `audit` and `counts` after `stop`).
    var latestSession: PlayPipeline? { currentSession.current ?? lastSession.current }

    func setSession(_ session: PlayPipeline) throws {
        try currentSession.withLock { current in
            if current != nil { throw ShellError("the processor is already running ('stop' first)") }
            current = session
        }
    }

    /// Stops the running processor gracefully; returns it, or nil if none was running.
    @discardableResult
    ///
    /// A client that keeps refusing calls would make the final publish wait forever, so after `timeout` the stop
    /// gives up on it and throws; the counts not delivered stay in the state file (with `--state PATH`).
    func stopSession(timeout: Duration = .seconds(30)) async throws -> PlayPipeline? {
        guard let session = currentSession.withLock({ current -> PlayPipeline? in
            defer { current = nil }
            return current
        }) else { return nil }
        defer { lastSession.withLock { $0 = session } }
        let finished = await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                await session.stop()
                return true
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()  // a stop still waiting on the client gives up at its next retry
            await group.waitForAll()
            return first
        }
        if !finished {
            let status = await session.processor.status()
            throw ShellError(
                "stopped without delivering everything: the client (\(status.client)) kept failing for \(timeout)"
                    + (status.lastError.map { ": \($0)" } ?? ""))
        }
        return session
    }

    // MARK: What was published to the topic

    /// Adds plays this shell published (`seed`, `replay`): what the client should show in the end.
    func addExpected(_ plays: [VideoID: Int]) {
        expected.withLock { expected in
            for (video, count) in plays { expected[video, default: 0] += count }
        }
    }

    var expectedCounts: [VideoID: Int] { expected.current }

    // MARK: Termination

    private let termination = Locked<Task<Void, Never>?>(nil)

    /// Makes SIGTERM stop the processor gracefully and exit 0 (see `TerminationWatcher`).
    func installTerminationHandler(in shell: ShellContext) {
        let logger = shell.logger
        TerminationWatcher.install { [self] in
            terminate(logger: logger)
        }
    }

    /// Graceful stop of everything, then `exit(0)`. A second SIGTERM while that runs (a client that stays
    /// down keeps the final publish retrying) exits at once with 143: the state file keeps what was not
    /// published, and the next start publishes it.
    func terminate(logger: Logger) {
        termination.withLock { task in
            guard task == nil else {
                logger.warning("second SIGTERM: exiting without waiting for the client")
                exit(143)
            }
            task = Task {
                logger.notice("SIGTERM: stopping the processor gracefully")
                await self.shutDown(logger: logger)
                exit(ExitStatus.success)
            }
        }
    }

    /// The graceful stop SIGTERM started, if any (it ends the process).
    var terminationTask: Task<Void, Never>? { termination.current }

    /// Stops everything at exit.
    func shutDown(logger: Logger) async {
        if let router = currentRouter.current { await router.stop() }
        do {
            try await stopSession(timeout: .seconds(10))
        } catch {
            logger.error("\(error)")
        }
        for producer in producers.withLock({ Array($0.values) }) { await producer.close() }
        try? await broker.stop()
        await http.stop()
    }
}

enum PlaycountAppKey: ComponentKey {
    typealias Value = PlaycountApp
}

extension ShellContext {
    /// The app's components; installed by `PlaycountApp.install`.
    var app: PlaycountApp {
        if let app = components[PlaycountAppKey.self] { return app }
        let app = PlaycountApp()
        components[PlaycountAppKey.self] = app
        return app
    }

    /// The running processor, or a clear error.
    func runningSession() throws -> PlayPipeline {
        guard let session = app.session else { throw ShellError("the processor is not running ('start' first)") }
        return session
    }

    /// The running or last processor, or a clear error.
    func latestSession() throws -> PlayPipeline {
        guard let session = app.latestSession else { throw ShellError("the processor has not run yet ('start' first)") }
        return session
    }
}

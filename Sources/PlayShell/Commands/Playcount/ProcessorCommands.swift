import ArgumentParser
import Foundation
import Logging
import NSQ
import PlayCounts
import PlayState
import PlayService
import PlayClients
import PlayWeb
import ShellKit

/// `start`: connects the processor to NSQ and starts counting and publishing.
struct StartCommand: ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "start",
        abstract: "Start the processor: consume the topic, count plays, publish counts to the client.",
        discussion: """
            Reads the settings topic, channel, nsqd-tcp-address / lookupd-http-address (none: the embedded \
            broker), max-in-flight, client, realtime-threshold, max-staleness, safety-margin, record, state, \
            dead-letter-topic and audit-memory. It refuses a channel that already has a consumer (nsqd's \
            /stats, through lookupd when set), naming it, unless shared-channel is on. With a state file, it resumes where the last run stopped or \
            crashed: counts, held videos with their deadlines, and an unacknowledged call (resent first).
            """)

    func run(in shell: ShellContext) async throws {
        try await Self.start(in: shell, headless: false)
    }

    /// Starts the processor; `headless` (from `serve`) keeps nothing in memory for `audit` unless
    /// `audit-memory` says otherwise.
    static func start(in shell: ShellContext, headless: Bool) async throws {
        if shell.app.session != nil { throw ShellError("the processor is already running ('stop' first)") }
        let settings = shell.settings
        let target = try await shell.app.target(in: shell)
        // Before anything is opened or bound: a refused start leaves nothing behind.
        if let notice = try await ChannelOwnership.check(
            topic: settings.consumedTopic, channel: settings[.channel], target: target, in: shell) {
            shell.logger.warning("\(notice)")
        }
        let client: any PublishClient
        if let address = try WebClientSpec.address(settings[.client]) {
            let feed = shell.app.http.feed
            feed.realtimeThreshold = settings[.realtimeThreshold]
            client = WebPublishClient(feed: feed, pageURL: try await shell.app.http.webPage(on: address, shell: shell))
        } else if shell.isInteractive, ["stdout", "-"].contains(settings[.client].lowercased()) {
            client = TerminalCallPrinter(out: shell.out)
        } else {
            do {
                let caFile = settings[.clientCAFile]
                client = try PublishClientFactory.make(
                    spec: settings[.client], webhookCAFile: caFile.isEmpty ? nil : shell.resolvePath(caFile))
            } catch {
                throw ShellError("client: \(error)")
            }
        }
        let statePath: String
        do {
            statePath = try PlayStateLocation.resolve(settings[.state]) { shell.resolvePath($0) }
        } catch {
            throw ShellError(error.description)
        }
        var receiptFile: ReceiptLogFile?
        let recordPath = settings[.record]
        if !recordPath.isEmpty {
            do {
                // With a state file the counts go on from the last run, and so does the record.
                receiptFile = try ReceiptLogFile(
                    path: shell.resolvePath(recordPath), appending: statePath != PlayStateStore.inMemoryPath)
            } catch {
                throw ShellError("record: cannot open \(recordPath): \(error)")
            }
        }
        // Realtime plays must not wait in nsqd's output buffer (250 ms by default), and a backlog must not be
        // read one socket write at a time: `adaptive` does both (see OutputBufferChoice).
        var consumer = NSQConsumerConfiguration(
            topic: settings.consumedTopic, channel: settings[.channel],
            nsqdTCPAddresses: target.nsqdTCPAddresses, lookupdHTTPAddresses: target.lookupdHTTPAddresses,
            maxInFlight: settings[.maxInFlight], userAgent: "playcount/1.0",
            messageTimeout: settings[.msgTimeout].duration,
            outputBuffering: settings[.outputBuffer].fixedBuffering ?? .unbuffered)
        if settings[.outputBuffer] == .adaptive, let catchUp = settings[.catchUpBuffer].fixedBuffering {
            consumer.catchUp = NSQConsumerConfiguration.CatchUp(outputBuffering: catchUp)
        }
        consumer.touchesHeldMessages = true
        consumer.lookupdPollInterval = .seconds(15)
        let policy = settings.publishPolicyConfiguration
        let deadLetterTopic = settings[.deadLetterTopic].isEmpty ? settings[.topic] + ".dead" : settings[.deadLetterTopic]
        guard NSQProtocol.isValidName(deadLetterTopic) else {
            throw ShellError("dead-letter-topic: '\(deadLetterTopic)' is not a valid NSQ topic name; set dead-letter-topic")
        }
        let topic = settings.consumedTopic
        guard NSQProtocol.isValidName(topic) else {
            throw ShellError("partition: the topic '\(topic)' is not a valid NSQ topic name (at most 64 of [.a-zA-Z0-9_-])")
        }
        let deadLetters = DeadLetterSink(topic: deadLetterTopic) { [shell] in
            try await shell.app.producer(for: topic, in: shell)
        }
        let store: PlayStateStore
        do {
            store = try PlayStateStore(path: statePath)
        } catch let error as PlayStateStoreError {
            throw ShellError("state: \(error)")
        }
        var sessionConfiguration = PlayPipeline.Configuration(
            consumer: consumer, processor: PlayProcessorConfiguration(
                policy: policy, readWindow: headless ? nil : consumer.maxInFlight, partition: settings.ownedPartition),
            client: client,
            receiptFile: receiptFile, store: store, deadLetters: deadLetters, logger: shell.logger)
        sessionConfiguration.metrics = shell.app.http.metrics
        if let delay = ProcessInfo.processInfo.environment["PLAYCOUNT_TEST_FIN_DELAY_MS"].flatMap({ Int($0) }), delay > 0 {
            sessionConfiguration.finDelay = .milliseconds(min(delay, 10_000))
        }
        let session = PlayPipeline(sessionConfiguration)
        let auditLimit = settings[.auditMemory].playLimit(headless: headless)
        session.receipts.keepInMemory(atMost: auditLimit)
        session.client.keepInMemory(atMost: auditLimit)
        do {
            try shell.app.setSession(session)
        } catch {
            try? store.close()
            throw error
        }
        do {
            try await session.start()
        } catch {
            _ = try? await shell.app.stopSession()
            throw ShellError("state: cannot resume from \(store.path): \(error)")
        }
        shell.app.installTerminationHandler(in: shell)
        let source = target.embedded != nil
            ? "the embedded broker (\(target.nsqdTCPAddresses.joined()))"
            : (target.nsqdTCPAddresses + target.lookupdHTTPAddresses.map { "lookupd \($0)" }).joined(separator: ", ")
        if shell.isInteractive {
            shell.out.print("processor started: \(settings.consumedTopic)/\(settings[.channel]) from \(source), publishing to \(client.description)")
        }
    }
}

/// `stop`: stops the processor gracefully.
struct StopCommand: ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "stop",
        abstract: "Stop the processor gracefully (settle in-flight messages, publish everything held).",
        discussion: """
            Fails if the client keeps refusing the last calls for --timeout; what was not delivered stays in \
            the state file (with --state PATH) and is published by the next start.
            """)

    @Option(help: "Give up on a client that keeps failing after this long.")
    var timeout = ShellDuration(.seconds(10), description: "10s")

    func run(in shell: ShellContext) async throws {
        guard try await shell.app.stopSession(timeout: timeout.duration) != nil else {
            throw ShellError("the processor is not running")
        }
    }
}

/// `flush`: publishes every held video now.
struct FlushCommand: ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "flush",
        abstract: "Publish every held video now (still at most 20 per call, only changed counts).")

    func run(in shell: ShellContext) async throws {
        try await shell.runningSession().processor.flush()
    }
}

/// `stats`: the figures of the current (or last) run, with calls against the lower bound.
struct StatsCommand: ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Show messages, calls, latency, staleness and calls against the lower bound.",
        discussion: """
            The lower bound is the fewest calls any policy obeying the rules could have made for the plays \
            as this processor received them.
            """)

    @OptionGroup var output: OutputOptions

    func run(in shell: ShellContext) async throws {
        let session = try shell.latestSession()
        let stats = await session.processor.stats()
        let counters = session.counters
        try shell.report(stats, json: output.json) { stats in
            func ms(_ value: Double) -> String { String(format: "%.3f ms", value) }
            func latency(_ summary: LatencySummary) -> String {
                "p50 \(ms(summary.p50Ms))  p99 \(ms(summary.p99Ms))  max \(ms(summary.maxMs))"
            }
            let partition = session.configuration.partition.map { [["partition", "\($0) (this owner's videos only)"]] } ?? []
            return Table(columns: ["FIGURE", "VALUE"], rows: partition + [
                ["messages", String(stats.messages)],
                ["invalid messages", String(stats.invalidMessages)],
                ["dead-lettered", "\(counters.deadLettered) (\(counters.gaveUp) past max attempts, \(counters.deadLetterFailures) failed)"],
                ["duplicates skipped", String(counters.duplicatesSkipped)],
                ["plays", String(stats.plays)],
                ["realtime plays", String(stats.realtimePlays)],
                ["calls", String(stats.calls)],
                ["lower bound", String(stats.lowerBound)],
                ["calls / bound", String(format: "%.4f", stats.callsOverBound)],
                ["floor given the RDY window", stats.windowFloor.map(String.init) ?? "-"],
                ["failed attempts", String(stats.failedAttempts)],
                ["videos per call", String(format: "%.2f mean, %d max", stats.videosPerCallMean, stats.videosPerCallMax)],
                ["realtime latency (receive → call)", latency(stats.realtimeLatencyFromReceive)],
                ["realtime latency (queue → call)", latency(stats.realtimeLatencyFromQueue)],
                ["worst staleness at publish", ms(stats.worstStalenessMs)],
                ["late plays", String(stats.latePlays)],
            ])
        }
    }
}

/// `serve`: the headless way to run the processor under a supervisor (systemd, a container, …).
struct ServeCommand: ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the processor until SIGTERM or SIGINT, then stop it gracefully.",
        discussion: """
            Starts the processor (as 'start') unless it runs already, then waits. SIGTERM or SIGINT (Ctrl-C) \
            stops it gracefully — CLS, settle in-flight messages, commit them to the state file, publish \
            everything held — and playcount exits with status 0. For a durable service give a state file:
              playcount --state /var/lib/playcount/state.sqlite --nsqd-tcp-address 127.0.0.1:4150 -c serve
            A restart (after a stop or a crash) resumes from the state file: nothing lost, nothing counted twice.
            Unless audit-memory is set, serve keeps no plays or calls in memory for 'audit' (a service runs for \
            days); set record FILE and a file: client to audit its files. Nor does it compute the stats' \
            window floor, a per-video second bound that costs tens of MB with a million videos.
            """)

    static var endsOnInterrupt: Bool { true }

    func run(in shell: ShellContext) async throws {
        if shell.app.session == nil { try await StartCommand.start(in: shell, headless: true) }
        shell.app.installTerminationHandler(in: shell)
        guard let session = shell.app.session else { return }
        shell.logger.notice(
            "serving \(shell.settings.consumedTopic)/\(shell.settings[.channel]) with state \(session.store.path); SIGTERM or SIGINT stops",
            metadata: [
                "topic": "\(shell.settings.consumedTopic)", "channel": "\(shell.settings[.channel])",
                "state": "\(session.store.path)",
            ])
        // SIGTERM is handled by the termination handler: the pipeline's graceful stop, then exit 0. SIGINT
        // cancels this task, which ends the wait.
        await session.waitUntilStopped()
        if shell.app.terminationTask != nil { return }
        let stoppedOnItsOwn = !Task.isCancelled
        // This task may be cancelled, and a cancelled task would cut the graceful stop short (no flush):
        // stop from a fresh task.
        let app = shell.app
        let logger = shell.logger
        await Task {
            do {
                _ = try await app.stopSession()
            } catch {
                logger.error("\(error)")
            }
        }.value
        if stoppedOnItsOwn {
            // A supervisor should see this and restart the service.
            throw ShellError("the processor stopped on its own (see the errors above)")
        }
    }
}

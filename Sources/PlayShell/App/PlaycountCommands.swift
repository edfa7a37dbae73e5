import PlayCounts
import PlayService
import ShellKit

/// Registers the app's commands, settings and `expect` figures in a shell.
public enum PlaycountCommands {
    public static func install(in shell: ShellContext) {
        shell.components[PlaycountAppKey.self] = PlaycountApp()
        for command: any ShellCommand.Type in [
            BrokerCommand.self, SeedCommand.self, ReplayCommand.self, StartCommand.self, StopCommand.self,
            StatusCommand.self, FlushCommand.self, StatsCommand.self, AuditCommand.self, WaitCommand.self,
            CountsCommand.self, ServeCommand.self, TopCommand.self, RouteCommand.self, DeploymentCommand.self,
        ] {
            shell.commands.register(command)
        }
        shell.settings.register(.nsqdTCPAddress)
        shell.settings.register(.nsqdHTTPAddress)
        shell.settings.register(.lookupdHTTPAddress)
        shell.settings.register(.maxInFlight)
        shell.settings.register(.outputBuffer)
        shell.settings.register(.catchUpBuffer)
        shell.settings.register(.msgTimeout)
        shell.settings.register(.client)
        shell.settings.register(.clientCAFile)
        shell.settings.register(.realtimeThreshold)
        shell.settings.register(.maxStaleness)
        shell.settings.register(.safetyMargin)
        shell.settings.register(.record)
        shell.settings.register(.auditMemory)
        shell.settings.register(.state)
        shell.settings.register(.deadLetterTopic)
        shell.settings.register(.partition)
        shell.settings.register(.partitions)
        shell.settings.register(.routeNsqdTCPAddress)
        shell.settings.register(.sharedChannel)
        registerFigures(in: shell)
    }

    /// Stops the processor (publishing what it holds) and the embedded broker.
    public static func shutDown(_ shell: ShellContext) async {
        // A SIGTERM is stopping everything and will exit 0: let it finish rather than race it.
        if let termination = shell.app.terminationTask { await termination.value }
        await shell.app.shutDown(logger: shell.logger)
    }

    private static func registerFigures(in shell: ShellContext) {
        func stat(_ name: String, _ help: String, _ value: @escaping @Sendable (PlayCountStats) -> ShellValue) {
            shell.figures.register(name, help: help) { shell in
                value(try await shell.latestSession().processor.stats())
            }
        }
        stat("calls", "Publish calls made.") { .integer($0.calls) }
        stat("lower bound", "The fewest calls any rule-obeying policy could have made.") { .integer($0.lowerBound) }
        stat("calls over bound", "calls / lower bound.") { .number($0.callsOverBound) }
        stat("window floor", "The fewest calls had every read taken a whole RDY window (max-in-flight).") {
            .integer($0.windowFloor ?? 0)
        }
        stat("plays", "Valid plays received.") { .integer($0.plays) }
        stat("messages", "Messages received.") { .integer($0.messages) }
        stat("invalid messages", "Messages that were not a valid play.") { .integer($0.invalidMessages) }
        stat("late plays", "Plays received already past their deadline.") { .integer($0.latePlays) }
        stat("max videos per call", "The most videos in one call.") { .integer($0.videosPerCallMax) }
        stat("realtime p99 ms", "Realtime latency p99, queue arrival to call.") {
            .number($0.realtimeLatencyFromQueue.p99Ms)
        }
        func counter(_ name: String, _ help: String, _ value: @escaping @Sendable (SessionCounters) -> Int) {
            shell.figures.register(name, help: help) { shell in .integer(value(try shell.latestSession().counters)) }
        }
        counter("dead letters", "Messages published to the dead-letter topic.") { $0.deadLettered }
        counter("duplicates skipped", "Redelivered messages already counted, acknowledged without counting.") {
            $0.duplicatesSkipped
        }
        shell.figures.register("held", help: "Videos held for a later call.") { shell in
            .integer(try await shell.latestSession().processor.status().heldVideos)
        }
        shell.figures.register("audit ok", help: "True when the audit of this run finds no violation.") { shell in
            .boolean(try await AuditReport.make(publishLogs: [], receipts: [], in: shell).ok)
        }
        shell.figures.register(
            "counts", help: "'seeded' when the client's last counts equal what seed/replay published."
        ) { shell in
            let expected = shell.app.expectedCounts
            guard let shown = try shell.latestSession().client.lastCounts else {
                throw ShellError(
                    "this run kept no client counts in memory (audit-memory 0; serve keeps none unless it is set); "
                        + "set audit-memory before 'start' to compare them")
            }
            let differing = Set(expected.keys).union(shown.keys).filter { expected[$0] != shown[$0] }
            guard let example = differing.min() else { return .string("seeded") }
            return .string(
                "\(differing.count) video(s) differ from seeded, e.g. \(example): client \(shown[example] ?? 0), seeded \(expected[example] ?? 0)")
        }
    }
}

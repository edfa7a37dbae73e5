import ArgumentParser
import Foundation
import Locking
import PlayCounts
import PlayService
import ShellKit

/// `top`: a live view of the processor, refreshed every interval: calls against the lower bound, rates, held
/// videos and the next deadline, the NSQ connections, and the most played videos. In a terminal it takes the
/// screen (the alternate screen, restored on exit) until `q` or Ctrl-C; elsewhere it prints one plain line per
/// interval, for `--count` lines or until interrupted.
struct TopCommand: ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "top",
        abstract: "A live view of the processor until q or Ctrl-C (plain lines when not a terminal).")

    @Option(help: "How often the view is refreshed.")
    var interval = ShellDuration(.seconds(1), description: "1s")

    @Option(help: "Stop after this many refreshes (default: until q or Ctrl-C).")
    var count: Int?

    @Option(help: "How many of the most played videos the view lists.")
    var videos = 15

    static var endsOnInterrupt: Bool { true }

    func validate() throws {
        guard interval.duration >= .milliseconds(50) else { throw ValidationError("--interval must be at least 50ms") }
        if let count, count < 1 { throw ValidationError("--count must be 1 or more") }
        guard (0...1000).contains(videos) else { throw ValidationError("--videos must be 0…1000") }
    }

    func run(in shell: ShellContext) async throws {
        _ = try shell.latestSession()
        if shell.isInteractive {
            try await runOnScreen(shell)
        } else {
            try await runAsLines(shell)
        }
    }

    // MARK: Plain lines

    private func runAsLines(_ shell: ShellContext) async throws {
        var previous: TopSample?
        for refresh in 1... {
            let sample = await TopSample.take(in: shell, videos: 0)
            shell.out.print(sample.line(since: previous))
            previous = sample
            if let count, refresh >= count { return }
            try await Task.sleep(for: interval.duration)
        }
    }

    // MARK: The terminal

    private enum Event: Sendable {
        case tick
        case quit
    }

    private func runOnScreen(_ shell: ShellContext) async throws {
        let terminal = RawTerminal()
        terminal.enter()
        defer { terminal.leave() }
        let (events, continuation) = AsyncStream.makeStream(of: Event.self)
        let keys = KeyReader { key in
            if key == UInt8(ascii: "q") || key == UInt8(ascii: "Q") { continuation.yield(.quit) }
        }
        keys.start()
        defer { keys.stop() }
        let ticks = Task {
            while !Task.isCancelled {
                continuation.yield(.tick)
                try? await Task.sleep(for: interval.duration)
            }
        }
        defer { ticks.cancel() }
        var previous: TopSample?
        var refreshes = 0
        // Ends on `q`, and when Ctrl-C cancels the command (the stream ends for a cancelled task).
        for await event in events {
            guard case .tick = event else { break }
            let sample = await TopSample.take(in: shell, videos: videos)
            shell.out.write(RawTerminal.home + sample.screen(since: previous, columns: terminal.columns))
            previous = sample
            refreshes += 1
            if let count, refreshes >= count { break }
        }
    }
}

/// One look at the processor, and the figures `top` derives from two looks in a row.
struct TopSample {
    var at: ContinuousClock.Instant
    var wall: Date
    var processor: String
    var stats: PlayCountStats
    var status: ProcessorStatus
    var connections: [(address: String, role: String, state: String, ready: Int, inFlight: Int)]
    var topVideos: [(video: VideoID, plays: Int)]

    static func take(in shell: ShellContext, videos: Int) async -> TopSample {
        let session = shell.app.latestSession
        let running = shell.app.session != nil
        let stats = await session?.processor.stats() ?? PlayCountStats()
        let status = await session?.processor.status()
            ?? ProcessorStatus(
                heldVideos: 0, nextDeadline: nil, receivedPlays: 0, invalidMessages: 0, readBatches: 0, calls: 0,
                pendingCalls: 0, client: "-", lastError: nil, consecutiveFailures: 0, retryAt: nil, running: false)
        var top: [(VideoID, Int)] = []
        if videos > 0, let counts = await session?.processor.counts() {
            top = Array(counts.sorted { $0.value > $1.value || ($0.value == $1.value && $0.key < $1.key) }.prefix(videos))
        }
        let connections = (running ? session?.consumer.status().connections : nil) ?? []
        return TopSample(
            at: .now, wall: Date(), processor: running ? "running" : (session == nil ? "not started" : "stopped"),
            stats: stats, status: status,
            connections: connections.map {
                ($0.address, $0.role.rawValue, $0.state.rawValue, $0.ready, $0.inFlight)
            },
            topVideos: top)
    }

    /// Plays and calls per second since `previous` (nil before the second look).
    func rates(since previous: TopSample?) -> (plays: Double, calls: Double)? {
        guard let previous else { return nil }
        let seconds = (at - previous.at).secondsValue
        guard seconds > 0 else { return nil }
        return (Double(stats.plays - previous.stats.plays) / seconds, Double(stats.calls - previous.stats.calls) / seconds)
    }

    private var clock: String {
        let formatter = DateFormatter()
        formatter.dateFormat = "HH:mm:ss"
        return formatter.string(from: wall)
    }

    private var deadline: String {
        guard let next = status.nextDeadline else { return "-" }
        let seconds = Double(next - SystemWallClock().now()) / 1e9
        return String(format: "%.1f s", max(0, seconds))
    }

    private func rateText(_ previous: TopSample?) -> (plays: String, callsPerMinute: String) {
        guard let rates = rates(since: previous) else { return ("-", "-") }
        return (String(format: "%.0f", rates.plays), String(format: "%.0f", rates.calls * 60))
    }

    /// The plain line: `top 10:00:01 running · calls 67 (bound 65, 1.031) · 120 calls/min · plays/s 1500 · …`.
    func line(since previous: TopSample?) -> String {
        let rates = rateText(previous)
        let subscribed = connections.filter { $0.state == "subscribed" }.count
        return "top \(clock) \(processor) · calls \(stats.calls) (bound \(stats.lowerBound), "
            + String(format: "%.3f", stats.callsOverBound) + ") · \(rates.callsPerMinute) calls/min · plays \(stats.plays)"
            + " · plays/s \(rates.plays) · held \(status.heldVideos) · next deadline \(deadline)"
            + " · nsqd \(subscribed)/\(connections.count) subscribed · client "
            + (status.clientHealthy ? "healthy" : "failing (\(status.consecutiveFailures))")
    }

    /// The full screen, each line cleared to its end, the rest of the screen cleared below.
    func screen(since previous: TopSample?, columns: Int) -> String {
        let rates = rateText(previous)
        var lines = [
            "playcount top — \(clock) — q or Ctrl-C to leave",
            "",
            "processor   \(processor), client \(status.client): "
                + (status.clientHealthy ? "healthy" : "failing (\(status.consecutiveFailures) in a row)"),
            "calls       \(stats.calls) made, \(status.pendingCalls) pending · lower bound \(stats.lowerBound) · calls / bound "
                + String(format: "%.3f", stats.callsOverBound),
            "rates       \(rates.callsPerMinute) calls/min · \(rates.plays) plays/s",
            "plays       \(stats.plays) (\(stats.realtimePlays) realtime, \(stats.invalidMessages) invalid messages)",
            "held        \(status.heldVideos) videos · next deadline \(deadline)",
        ]
        for connection in connections {
            lines.append(
                "nsqd        \(connection.address) \(connection.role): \(connection.state), RDY \(connection.ready), in flight \(connection.inFlight)")
        }
        if !topVideos.isEmpty {
            lines.append("")
            lines.append("VIDEO                                   PLAYS")
            for (video, plays) in topVideos {
                lines.append(video.description + "    " + String(plays))
            }
        }
        let width = max(20, columns)
        return lines.map { String($0.prefix(width)) + RawTerminal.clearToEndOfLine + "\r\n" }.joined()
            + RawTerminal.clearBelow
    }
}

/// The terminal for `top`: the alternate screen, no cursor, no echo, keys read one at a time (Ctrl-C still
/// sends SIGINT); everything restored by ``leave()``.
final class RawTerminal: Sendable {
    static let home = "\u{1B}[H"
    static let clearToEndOfLine = "\u{1B}[K"
    static let clearBelow = "\u{1B}[J"
    private let saved = Locked<termios?>(nil)

    var columns: Int {
        var size = winsize()
        return ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0 && size.ws_col > 0 ? Int(size.ws_col) : 80
    }

    func enter() {
        var attributes = termios()
        if tcgetattr(STDIN_FILENO, &attributes) == 0 {
            saved.withLock { $0 = attributes }
            attributes.c_lflag &= ~tcflag_t(ICANON | ECHO)
            _ = tcsetattr(STDIN_FILENO, TCSANOW, &attributes)
        }
        FileDescriptorSink(descriptor: STDOUT_FILENO).write("\u{1B}[?1049h\u{1B}[?25l\u{1B}[2J")
    }

    func leave() {
        FileDescriptorSink(descriptor: STDOUT_FILENO).write("\u{1B}[?25h\u{1B}[?1049l")
        if var attributes = saved.withLock({ $0.take() }) {
            _ = tcsetattr(STDIN_FILENO, TCSANOW, &attributes)
        }
    }
}

/// Reads keys from stdin on a thread of its own until stopped (it polls, so it sees a stop within 50 ms).
final class KeyReader: Sendable {
    private let onKey: @Sendable (UInt8) -> Void
    private let stopped = Locked(false)
    private let exited = DispatchSemaphore(value: 0)

    init(onKey: @escaping @Sendable (UInt8) -> Void) { self.onKey = onKey }

    func start() {
        Thread { [self] in
            defer { exited.signal() }
            while !stopped.current {
                var descriptor = pollfd(fd: STDIN_FILENO, events: Int16(POLLIN), revents: 0)
                guard poll(&descriptor, 1, 50) > 0 else { continue }
                var byte: UInt8 = 0
                if read(STDIN_FILENO, &byte, 1) == 1 { onKey(byte) } else { return }
            }
        }.start()
    }

    /// Stops reading and waits for the thread to end, so it takes no key meant for the next prompt.
    func stop() {
        stopped.withLock { $0 = true }
        exited.wait()
    }
}

import ArgumentParser
import Logging
import ShellKit

/// The command line of the `playcount` program itself.
struct PlaycountOptions: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "playcount",
        abstract: "The playcount control shell: counts video plays from NSQ and publishes them.",
        usage: """
            playcount                      interactive shell (when stdin and stdout are terminals)
            playcount FILE…                run script files
            playcount -f FILE              run a script file
            playcount -c 'cmd; cmd'        run commands
            … | playcount                  run commands read from stdin
            """,
        discussion: """
            Scripts hold one command per line; blank lines and # comments are skipped; 'source FILE' runs \
            another script relative to the current one. Errors are printed on stderr as FILE:LINE: error: … \
            (<stdin> and <command line> name the other sources). Running stops at the first failing command \
            unless --keep-going is given. -c commands run first, then -f files, then FILE arguments. \
            Interactive history: $PLAYCOUNT_HISTORY, else $XDG_STATE_HOME/playcount/history, else \
            ~/.local/state/playcount/history.

            EXIT STATUS
              0    every command succeeded ('quit CODE' ends the run with CODE)
              1    a command failed (unknown command, bad arguments, failed 'expect', …)
              2    a script file given to playcount could not be read
              64   playcount itself was used wrongly (unknown flag, missing value)
              130  interrupted by Ctrl-C while running non-interactively (or a command ignored
                   three Ctrl-C presses)
            """)

    @Option(name: .customShort("c"), help: ArgumentHelp("Run these commands (separated by ';').", valueName: "commands"))
    var commands: [String] = []

    @Option(name: [.customShort("f"), .customLong("file")], help: ArgumentHelp("Run this script file.", valueName: "file"),
            completion: .file())
    var files: [String] = []

    @Flag(name: .long, help: "Print each command as '+ command' before running it.")
    var echo = false

    @Flag(name: .long, help: "Run on after a failing command (the exit status still reports the failure).")
    var keepGoing = false

    @Option(help: ArgumentHelp("nsqd TCP address to use instead of the embedded broker (repeatable).", valueName: "host:port"))
    var nsqdTCPAddress: [String] = []

    @Option(help: ArgumentHelp("nsqd HTTP address, read for the queue depth (repeatable).", valueName: "host:port"))
    var nsqdHTTPAddress: [String] = []

    @Option(help: ArgumentHelp("nsqlookupd HTTP address to discover nsqd from (repeatable).", valueName: "host:port"))
    var lookupdHTTPAddress: [String] = []

    @Option(help: ArgumentHelp(
        "Serve /metrics (Prometheus), /healthz, /readyz, /status and /stats here (off unless given; port 0: a free one).",
        valueName: "host:port"))
    var httpAddress: String?

    @Option(help: "NSQ topic the play events arrive on (the 'topic' setting).")
    var topic: String?

    @Option(help: "NSQ channel the processor consumes with (the 'channel' setting).")
    var channel: String?

    @Option(help: ArgumentHelp(
        "The processor's state file (the 'state' setting): :memory: (default), default or a path.", valueName: "path"))
    var state: String?

    @Option(help: ArgumentHelp("Set a shell setting before anything runs (repeatable), e.g. --set client=file:out.jsonl.",
        valueName: "name=value"))
    var set: [String] = []

    @Option(help: ArgumentHelp(
        "The least severe log events written on stderr: trace, debug, info, notice, warning, error or critical.",
        valueName: "level"))
    var logLevel: Logger.Level = .info

    @Option(help: ArgumentHelp(
        "How log events are written: human (default), or one logfmt or JSON line per event (for a collector).",
        valueName: "human|logfmt|json"))
    var logFormat: LogFormat = .human

    @Argument(help: ArgumentHelp("Script files to run.", valueName: "file"), completion: .file())
    var scripts: [String] = []

    /// The settings these flags give, as (name, value) in the order to apply them.
    var settingAssignments: [(name: String, value: String)] {
        get throws {
            var assignments: [(String, String)] = []
            if !nsqdTCPAddress.isEmpty { assignments.append(("nsqd-tcp-address", nsqdTCPAddress.joined(separator: ","))) }
            if !nsqdHTTPAddress.isEmpty { assignments.append(("nsqd-http-address", nsqdHTTPAddress.joined(separator: ","))) }
            if !lookupdHTTPAddress.isEmpty {
                assignments.append(("lookupd-http-address", lookupdHTTPAddress.joined(separator: ",")))
            }
            if let topic { assignments.append(("topic", topic)) }
            if let channel { assignments.append(("channel", channel)) }
            if let state { assignments.append(("state", state)) }
            for assignment in set {
                guard let equals = assignment.firstIndex(of: "="), equals != assignment.startIndex else {
                    throw ValidationError("--set takes NAME=VALUE, got '\(assignment)'")
                }
                assignments.append((String(assignment[..<equals]), String(assignment[assignment.index(after: equals)...])))
            }
            return assignments
        }
    }
}

extension LogFormat: ExpressibleByArgument {}
extension Logger.Level: @retroactive ExpressibleByArgument {}

import Foundation
import NSQ
import PlayCounts
import PlayService
import ShellKit

/// The settings the NSQ and processor commands read. Each is `set`/`show`able and an `expect` subject;
/// the process flags (`--nsqd-tcp-address`, …) set the same values.
extension Setting where Value == String {
    /// nsqd TCP addresses to consume from and publish to; empty means the embedded broker.
    public static var nsqdTCPAddress: Setting<String> {
        Setting(
            name: "nsqd-tcp-address", defaultValue: "",
            help: "nsqd TCP addresses, comma-separated (empty: the embedded broker).",
            validate: addressListProblem)
    }

    /// nsqd HTTP addresses, for the queue depth of an external nsqd (`status`, `wait drained`).
    public static var nsqdHTTPAddress: Setting<String> {
        Setting(
            name: "nsqd-http-address", defaultValue: "",
            help: "nsqd HTTP addresses, comma-separated, read for the queue depth (lookupd lists them otherwise).",
            validate: addressListProblem)
    }

    /// nsqlookupd HTTP addresses the consumer discovers nsqd instances from.
    public static var lookupdHTTPAddress: Setting<String> {
        Setting(
            name: "lookupd-http-address", defaultValue: "",
            help: "nsqlookupd HTTP addresses, comma-separated, polled for the topic's nsqd instances.",
            validate: addressListProblem)
    }

    /// Where `route` publishes the partition topics; empty: back to the nsqd each play was read from.
    public static var routeNsqdTCPAddress: Setting<String> {
        Setting(
            name: "route-nsqd-tcp-address", defaultValue: "",
            help: "The nsqd 'route' publishes partition topics to (e.g. the nsqd on the router's host, NSQ's habit); "
                + "empty: the nsqd each play was read from.",
            validate: { text in
                addressList(text).count > 1 ? "one HOST:PORT" : addressListProblem(text)
            })
    }

    /// Where publish calls go.
    public static var client: Setting<String> {
        Setting(
            name: "client", defaultValue: "stdout",
            help: "Where counts are published: stdout, file:PATH, http(s)://HOST:PORT/PATH, or web[:HOST:PORT] (a web page).",
            suggestions: ["stdout", "file:", "http://127.0.0.1:8080/counts", "https://", "web"],
            validate: { spec in
                if spec.hasPrefix("web") { return (try? WebClientSpec.address(spec)) == nil ? WebClientSpec.usage : nil }
                return spec == "stdout" || spec == "-" || spec.hasPrefix("file:") || spec.hasPrefix("http://")
                    || spec.hasPrefix("https://")
                    ? nil : "use stdout, file:PATH, http(s)://HOST:PORT/PATH or web[:HOST:PORT]"
            })
    }

    /// The certificates an https client trusts, instead of the system's roots.
    public static var clientCAFile: Setting<String> {
        Setting(
            name: "client-ca-file", defaultValue: "",
            help: "A PEM file of the CA certificates an https:// client trusts (e.g. a self-signed endpoint's); "
                + "empty: the system's roots.")
    }

    /// The processor's state file (counts, published counts, committed message ids, outbox).
    ///
    /// The shell defaults to `:memory:` so that scripts, examples and tests stay hermetic (a run never sees
    /// counts from an earlier run). Durable runs name a file (`--state PATH`, or `default` for
    /// `$XDG_STATE_HOME/playcount/state.sqlite`, else `~/.local/state/playcount/state.sqlite`); a restarted
    /// processor then resumes from it: nothing lost, nothing counted twice.
    public static var state: Setting<String> {
        Setting(
            name: "state", defaultValue: PlayStateLocation.inMemory,
            help: """
                The processor's state file: :memory: (default, throwaway), a path for durable runs that resume \
                after a crash or restart, or 'default' for $XDG_STATE_HOME/playcount/state.sqlite \
                (~/.local/state/playcount/state.sqlite).
                """,
            suggestions: [PlayStateLocation.inMemory, "default"],
            validate: { $0.isEmpty ? "use :memory:, default or a file path" : nil })
    }

    /// Where invalid messages go; empty means `<topic>.dead`.
    public static var deadLetterTopic: Setting<String> {
        Setting(
            name: "dead-letter-topic", defaultValue: "",
            help: """
                Topic that invalid messages (and messages past the consumer's max attempts) are published to, \
                as JSON with their reason; empty: <topic>.dead.
                """,
            validate: { $0.isEmpty || NSQProtocol.isValidName($0) ? nil : "'\($0)' is not a valid NSQ topic name" })
    }

    /// The partition this processor owns, `k/K`; empty: every video (one processor, no routers).
    public static var partition: Setting<String> {
        Setting(
            name: "partition", defaultValue: "",
            help: """
                The partition this processor owns, k/K (k from 0): it reads <topic>.p<k>, which 'route' fills, \
                and counts only those videos; empty: the whole topic.
                """,
            validate: { $0.isEmpty || Partition($0) != nil ? nil : "use k/K with 0 <= k < K <= \(Partition.maxCount), e.g. 1/3" })
    }

    /// A receipt log for the next `start`: every play received, replayable with `replay`.
    public static var record: Setting<String> {
        Setting(
            name: "record", defaultValue: "",
            help: "Write every play the processor receives to this file (JSON lines, replayable); empty: off. "
                + "With a state file each start appends to it, so that 'audit' can check every run of that state.")
    }
}

extension Setting where Value == Bool {
    /// Lets `start`/`serve` join a channel that already has a consumer (see ``ChannelOwnership``).
    public static var sharedChannel: Setting<Bool> {
        Setting(
            name: "shared-channel", defaultValue: false,
            help: "Start the processor even if its channel already has a consumer (which then takes part of "
                + "the messages, so neither publishes whole counts); off: refuse, naming the consumer.")
    }
}

extension Setting where Value == Int {
    /// How many messages may be in flight to the processor, spread as RDY over the nsqd connections.
    public static var maxInFlight: Setting<Int> {
        Setting(
            name: "max-in-flight", defaultValue: 2500,
            help: "Messages in flight to the processor, spread as RDY over nsqd connections.",
            validate: { (1...1_000_000).contains($0) ? nil : "must be between 1 and 1000000" })
    }

    /// K for `route` (and the default of `seed --partitions`): how many partition topics plays are routed to.
    public static var partitions: Setting<Int> {
        Setting(
            name: "partitions", defaultValue: 1,
            help: "How many partitions 'route' spreads plays over (<topic>.p0 … <topic>.p<K-1>).",
            validate: { (1...Partition.maxCount).contains($0) ? nil : "must be between 1 and \(Partition.maxCount)" })
    }

    /// Plays below which a video is realtime.
    public static var realtimeThreshold: Setting<Int> {
        Setting(
            name: "realtime-threshold", defaultValue: 100,
            help: "A video's first N plays are published as soon as they are received.",
            validate: { $0 >= 0 ? nil : "must not be negative" })
    }
}

extension Setting where Value == ShellDuration {
    /// How stale a held video's published count may get (rule 2).
    public static var maxStaleness: Setting<ShellDuration> {
        Setting(
            name: "max-staleness", defaultValue: ShellDuration(.seconds(60), description: "60s"),
            help: "Every play of a popular video reaches the client within this time of arriving on the queue.",
            validate: { $0.duration > .zero ? nil : "must be positive" })
    }

    /// Time reserved for the call itself before a held play's deadline.
    public static var safetyMargin: Setting<ShellDuration> {
        Setting(
            name: "safety-margin", defaultValue: ShellDuration(.milliseconds(250), description: "250ms"),
            help: "Held videos are published this long before their deadline, to allow for the call.")
    }
}

extension AuditMemory: ShellValueConvertible {
    public static var typeName: String { "auto|integer" }

    public static func parse(_ text: String) throws -> AuditMemory {
        if text == "auto" { return .automatic }
        guard let plays = Int(text.replacingOccurrences(of: "_", with: "")), plays >= 0 else {
            throw ShellError("'\(text)' is not 'auto' or a number of plays (0 or more)")
        }
        return .plays(plays)
    }

    public init?(shellValue: ShellValue) {
        switch shellValue {
        case .string("auto"): self = .automatic
        case .integer(let plays) where plays >= 0: self = .plays(plays)
        default: return nil
        }
    }

    public var shellValue: ShellValue {
        switch self {
        case .automatic: return .string("auto")
        case .plays(let plays): return .integer(plays)
        }
    }
}

extension Setting where Value == AuditMemory {
    /// The most plays (and video counts in calls) a run keeps in memory for `audit` without a file.
    public static var auditMemory: Setting<AuditMemory> {
        Setting(
            name: "audit-memory", defaultValue: .automatic,
            help: """
                Plays kept in memory for 'audit' without files (calls: as many video counts); 0: none, \
                nor the client's last counts ('counts', 'expect counts'). \
                auto: \(AuditMemory.interactivePlays) with start, 0 with serve. Past the limit, audit the \
                'record' file and a file: client's log instead.
                """,
            suggestions: ["auto", "0", String(AuditMemory.interactivePlays)])
    }
}

extension ShellDuration: ShellValueConvertible {
    public static var typeName: String { "duration" }

    public static func parse(_ text: String) throws -> ShellDuration {
        guard let duration = ShellDuration(argument: text) else {
            throw ShellError("'\(text)' is not a duration (e.g. 250ms, 2s, 1m)")
        }
        return duration
    }

    public init?(shellValue: ShellValue) {
        guard case .string(let text) = shellValue, let duration = ShellDuration(argument: text) else { return nil }
        self = duration
    }

    public var shellValue: ShellValue { .string(description) }

    /// The duration in the processor's unit.
    var nanoseconds: WallNanoseconds {
        let (seconds, attoseconds) = duration.components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}

/// Splits a comma-separated address list, dropping blanks.
func addressList(_ text: String) -> [String] {
    text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
}

@Sendable func addressListProblem(_ text: String) -> String? {
    for address in addressList(text) {
        let parts = address.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count >= 2, let port = parts.last.flatMap({ Int($0) }), (1...65535).contains(port) else {
            return "'\(address)' is not HOST:PORT"
        }
    }
    return nil
}

extension SettingsRegistry {
    /// The publish rules' limits as the settings give them: what `start` runs with and `audit` checks files against.
    var publishPolicyConfiguration: PublishPolicyConfiguration {
        PublishPolicyConfiguration(
            realtimeThreshold: self[.realtimeThreshold],
            maxStaleness: self[.maxStaleness].nanoseconds,
            safetyMargin: self[.safetyMargin].nanoseconds)
    }
}

extension SettingsRegistry {
    /// The partition the `partition` setting names, or nil for a processor of the whole topic.
    var ownedPartition: Partition? { Partition(self[.partition]) }

    /// The topic the processor reads: `<topic>.p<k>` for a partition's owner, else `topic`.
    var consumedTopic: String { ownedPartition?.topic(of: self[.topic]) ?? self[.topic] }
}

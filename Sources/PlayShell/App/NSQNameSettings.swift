import NSQ
import ShellKit

extension Setting where Value == String {
    /// The NSQ topic the processor consumes play events from.
    public static var topic: Setting<String> {
        Setting(
            name: "topic", defaultValue: "plays", help: "NSQ topic the play events arrive on.",
            validate: nsqNameProblem)
    }

    /// The NSQ channel the processor subscribes with.
    public static var channel: Setting<String> {
        Setting(
            name: "channel", defaultValue: "processor", help: "NSQ channel the processor consumes with.",
            validate: nsqNameProblem)
    }
}

/// nil when `name` is a valid NSQ topic or channel name, else why not.
@Sendable func nsqNameProblem(_ name: String) -> String? {
    NSQProtocol.isValidName(name)
        ? nil : "NSQ names are 1-64 characters of [A-Za-z0-9._-], optionally ending in #ephemeral"
}

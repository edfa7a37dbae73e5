/// Who the shell is, in the words it prints and the places it keeps things: its prompt and banner, the prefix of
/// its messages, the logger's label, libedit's application name (for `~/.editrc`) and where history is kept.
/// ShellKit knows no application; the program names itself here (`playcount`).
public struct ShellIdentity: Sendable, Equatable {
    /// A short lowercase name, e.g. `playcount`.
    public let name: String

    public init(name: String) {
        self.name = name
    }

    /// A shell that names no application.
    public static let generic = ShellIdentity(name: "shell")

    /// `NAME> `.
    public var prompt: String { "\(name)> " }

    /// What the interactive shell says first.
    public var banner: String { "\(name) shell. Type 'help' for commands, Ctrl-D or 'quit' to leave." }

    /// The environment variable that names the history file: `PLAYCOUNT_HISTORY` for `playcount`.
    public var historyVariable: String {
        String(name.uppercased().map { $0.isLetter || $0.isNumber ? $0 : "_" }) + "_HISTORY"
    }
}

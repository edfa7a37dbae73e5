import Locking

/// The shell's typed settings: definitions registered by modules at start-up, and their current values.
/// Thread-safe; values are read by commands while they run.
public final class SettingsRegistry: Sendable {
    /// A type-erased setting definition.
    struct Entry: Sendable {
        public let name: String
        public let typeName: String
        public let defaultValue: ShellValue
        public let help: String
        public let suggestions: [String]
        /// Parses and validates user text.
        public let parse: @Sendable (String) throws -> ShellValue
    }

    private struct State {
        var order: [String] = []
        var entries: [String: Entry] = [:]
        var values: [String: ShellValue] = [:]
    }

    private let state = Locked(State())

    public init() {}

    /// Adds a setting (at its default value). Registering the same name again replaces the definition and
    /// resets the value.
    public func register<Value>(_ setting: Setting<Value>) {
        let name = setting.name
        let entry = Entry(
            name: name,
            typeName: Value.typeName,
            defaultValue: setting.defaultValue.shellValue,
            help: setting.help,
            suggestions: setting.suggestions,
            parse: { text in
                let value = try Value.parse(text)
                if let problem = setting.validate(value) {
                    throw ShellError("invalid value '\(text)' for \(name): \(problem)")
                }
                return value.shellValue
            }
        )
        state.withLock { state in
            if state.entries[name] == nil { state.order.append(name) }
            state.entries[name] = entry
            state.values[name] = entry.defaultValue
        }
    }

    /// The current value of a registered setting (its default if it was never registered).
    public subscript<Value>(setting: Setting<Value>) -> Value {
        let stored = state.withLock { $0.values[setting.name] }
        return stored.flatMap(Value.init(shellValue:)) ?? setting.defaultValue
    }

    /// Sets a registered setting from code; throws `ShellError` if validation rejects the value.
    public func set<Value>(_ setting: Setting<Value>, to value: Value) throws {
        if let problem = setting.validate(value) {
            throw ShellError("invalid value '\(value.shellValue)' for \(setting.name): \(problem)")
        }
        try state.withLock { state in
            guard state.entries[setting.name] != nil else { throw ShellError("unknown setting '\(setting.name)'") }
            state.values[setting.name] = value.shellValue
        }
    }

    /// Sets a setting from what the user typed (`set NAME VALUE`).
    public func set(name: String, text: String) throws {
        guard let entry = state.withLock({ $0.entries[name] }) else {
            throw ShellError("unknown setting '\(name)'\(Self.hint(for: name, among: names))")
        }
        let value = try entry.parse(text)
        state.withLock { $0.values[name] = value }
    }

    /// The current value of the setting called `name`, or nil if there is none.
    public func value(named name: String) -> ShellValue? {
        state.withLock { $0.values[name] }
    }

    /// Names in registration order.
    public var names: [String] { state.withLock { $0.order } }

    /// Everything `show` prints, in registration order.
    public var all: [SettingInfo] {
        state.withLock { state in
            state.order.compactMap { name in
                guard let entry = state.entries[name] else { return nil }
                return SettingInfo(
                    name: name, type: entry.typeName, value: state.values[name] ?? entry.defaultValue,
                    defaultValue: entry.defaultValue, help: entry.help)
            }
        }
    }

    /// Information about one setting, or nil.
    public func info(named name: String) -> SettingInfo? { all.first { $0.name == name } }

    /// Values Tab completion offers after `set NAME `.
    public func suggestions(for name: String) -> [String] {
        state.withLock { $0.entries[name]?.suggestions ?? [] }
    }

    /// ", did you mean 'x'?" when a close name exists.
    static func hint(for name: String, among candidates: [String]) -> String {
        let close = candidates.filter { $0.hasPrefix(name) || name.hasPrefix($0) }
        if let first = close.first { return "; did you mean '\(first)'?" }
        return candidates.isEmpty ? "" : " (known: \(candidates.joined(separator: ", ")))"
    }
}

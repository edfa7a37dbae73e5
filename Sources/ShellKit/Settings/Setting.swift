/// The definition of one typed shell setting: `set NAME VALUE` changes it, `show [NAME]` prints it, and it is
/// automatically a subject for `expect NAME OP VALUE`.
///
/// Define settings as static members so commands read them type-safely:
/// ```swift
/// extension Setting where Value == Int {
///     public static let batchSize = Setting(name: "batch-size", defaultValue: 20,
///         help: "Videos per publish call.", validate: { (1...20).contains($0) ? nil : "must be 1…20" })
/// }
/// shell.settings.register(.batchSize)          // once, at start-up
/// let size = shell.settings[.batchSize]        // Int
/// ```
public struct Setting<Value: ShellValueConvertible>: Sendable {
    /// The name used by `set`, `show` and `expect` (words joined by `-`, no spaces).
    public let name: String
    public let defaultValue: Value
    /// One line shown by `show` and `help set`.
    public let help: String
    /// Values offered by Tab completion after `set NAME ` (empty: none).
    public let suggestions: [String]
    /// Returns an error message when a value is not acceptable, nil when it is.
    public let validate: @Sendable (Value) -> String?

    public init(
        name: String,
        defaultValue: Value,
        help: String,
        suggestions: [String] = [],
        validate: @escaping @Sendable (Value) -> String? = { _ in nil }
    ) {
        self.name = name
        self.defaultValue = defaultValue
        self.help = help
        self.suggestions = suggestions
        self.validate = validate
    }
}

/// What `show` reports about one setting.
public struct SettingInfo: Sendable, Encodable, Equatable {
    public let name: String
    public let type: String
    public let value: ShellValue
    public let defaultValue: ShellValue
    public let help: String

    enum CodingKeys: String, CodingKey {
        case name, type, value
        case defaultValue = "default"
        case help
    }
}

import Foundation

/// A value a setting holds or a figure reports: what `show` prints and `expect` compares.
public enum ShellValue: Sendable, Hashable, CustomStringConvertible, Encodable {
    case string(String)
    case integer(Int)
    case number(Double)
    case boolean(Bool)

    public var description: String {
        switch self {
        case .string(let value): return value
        case .integer(let value): return String(value)
        case .number(let value):
            if value.isFinite, value == value.rounded(), abs(value) < 1e15 { return String(Int(value)) }
            return String(value)
        case .boolean(let value): return value ? "true" : "false"
        }
    }

    /// The numeric value, when this is a number or an integer.
    public var numericValue: Double? {
        switch self {
        case .integer(let value): return Double(value)
        case .number(let value): return value
        case .string, .boolean: return nil
        }
    }

    /// A short name of the kind of value, for messages.
    public var kindName: String {
        switch self {
        case .string: return "string"
        case .integer: return "integer"
        case .number: return "number"
        case .boolean: return "boolean"
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .string(let value): try container.encode(value)
        case .integer(let value): try container.encode(value)
        case .number(let value): try container.encode(value)
        case .boolean(let value): try container.encode(value)
        }
    }

    /// Parses a boolean the way people write it in scripts.
    public static func parseBoolean(_ text: String) -> Bool? {
        switch text.lowercased() {
        case "true", "yes", "on", "1", "ok": return true
        case "false", "no", "off", "0": return false
        default: return nil
        }
    }
}

/// A Swift type that can be stored in a setting: converts to and from `ShellValue` and parses user text.
public protocol ShellValueConvertible: Sendable {
    /// The name shown by `show` (`string`, `integer`, …).
    static var typeName: String { get }
    /// Parses what the user typed after `set NAME`; throws `ShellError` with a clear message.
    static func parse(_ text: String) throws -> Self
    init?(shellValue: ShellValue)
    var shellValue: ShellValue { get }
}

extension String: ShellValueConvertible {
    public static var typeName: String { "string" }
    public static func parse(_ text: String) throws -> String { text }
    public init?(shellValue: ShellValue) {
        guard case .string(let value) = shellValue else { return nil }
        self = value
    }
    public var shellValue: ShellValue { .string(self) }
}

extension Int: ShellValueConvertible {
    public static var typeName: String { "integer" }
    public static func parse(_ text: String) throws -> Int {
        guard let value = Int(text.replacingOccurrences(of: "_", with: "")) else {
            throw ShellError("'\(text)' is not an integer")
        }
        return value
    }
    public init?(shellValue: ShellValue) {
        guard case .integer(let value) = shellValue else { return nil }
        self = value
    }
    public var shellValue: ShellValue { .integer(self) }
}

extension Double: ShellValueConvertible {
    public static var typeName: String { "number" }
    public static func parse(_ text: String) throws -> Double {
        guard let value = Double(text), value.isFinite else { throw ShellError("'\(text)' is not a number") }
        return value
    }
    public init?(shellValue: ShellValue) {
        guard let value = shellValue.numericValue else { return nil }
        self = value
    }
    public var shellValue: ShellValue { .number(self) }
}

extension Bool: ShellValueConvertible {
    public static var typeName: String { "boolean" }
    public static func parse(_ text: String) throws -> Bool {
        guard let value = ShellValue.parseBoolean(text) else {
            throw ShellError("'\(text)' is not a boolean (use true/false, yes/no, on/off)")
        }
        return value
    }
    public init?(shellValue: ShellValue) {
        guard case .boolean(let value) = shellValue else { return nil }
        self = value
    }
    public var shellValue: ShellValue { .boolean(self) }
}

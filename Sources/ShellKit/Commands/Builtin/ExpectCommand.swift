import ArgumentParser
import Foundation

/// `expect SUBJECT OP VALUE`: an assertion for scenarios, failing with `expected calls <= 150, got 163`.
struct ExpectCommand: ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "expect",
        abstract: "Check a figure or setting; fail the script when it does not hold.",
        discussion: """
            OP is one of == != < <= > >=. SUBJECT is a setting name or a figure registered by a module; it \
            may have several words. A yes/no SUBJECT without OP and VALUE expects it to be true. \
            'expect --list' shows the subjects. Examples: expect topic == plays; expect calls <= 150.
            """)

    @Flag(name: .long, help: "List the subjects that can be checked.")
    var list = false

    @Argument(parsing: .allUnrecognized, help: ArgumentHelp("SUBJECT OP VALUE", valueName: "expectation"))
    var words: [String] = []

    func validate() throws {
        if !list, words.isEmpty { throw ValidationError("Missing expected argument 'SUBJECT OP VALUE'") }
    }

    func run(in shell: ShellContext) async throws {
        if list {
            var table = Table(columns: ["SUBJECT", "KIND", "DESCRIPTION"])
            for info in shell.settings.all { table.append([info.name, "setting", info.help]) }
            for figure in shell.figures.all { table.append([figure.name, "figure", figure.help]) }
            shell.printTable(table)
            return
        }
        let expectation = try Expectation(words: words)
        let actual = try await Self.value(of: expectation.subject, in: shell)
        if try !expectation.holds(for: actual) {
            throw ShellError("expected \(expectation), got \(actual)")
        }
    }

    /// The current value of `subject`: a figure (longest multi-word match) or a setting.
    static func value(of subject: [String], in shell: ShellContext) async throws -> ShellValue {
        let name = subject.joined(separator: " ")
        if let match = shell.figures.match(subject), match.wordCount == subject.count {
            return try await match.figure.provider(shell)
        }
        if let value = shell.settings.value(named: name) { return value }
        let known = shell.settings.names + shell.figures.all.map(\.name)
        throw ShellError("unknown subject '\(name)' (known: \(known.joined(separator: ", ")))")
    }

    static func completions(for request: CompletionRequest, in shell: ShellContext) -> [String]? {
        if request.partialWord.hasPrefix("-") { return nil }
        let words = request.previousWords
        if words.contains(where: { Expectation.Operator(rawValue: $0) != nil }) { return [] }
        // Offer the next word of any subject that starts with the words typed so far, then operators.
        var candidates: [String] = []
        let subjects = shell.settings.names.map { [$0] } + shell.figures.all.map(\.words)
        for subject in subjects where subject.count > words.count && Array(subject.prefix(words.count)) == words {
            candidates.append(subject[words.count])
        }
        if !words.isEmpty { candidates += Expectation.Operator.allCases.map(\.rawValue) }
        return Array(Set(candidates)).sorted()
    }
}

/// A parsed `SUBJECT [OP VALUE]`.
struct Expectation: Equatable, CustomStringConvertible {
    enum Operator: String, CaseIterable {
        case equal = "=="
        case notEqual = "!="
        case less = "<"
        case lessOrEqual = "<="
        case greater = ">"
        case greaterOrEqual = ">="
    }

    var subject: [String]
    /// nil: a yes/no subject expected to be true.
    var comparison: (op: Operator, value: String)?

    init(words: [String]) throws {
        guard let index = words.firstIndex(where: { Operator(rawValue: $0) != nil }),
            let op = Operator(rawValue: words[index])
        else {
            guard !words.isEmpty else { throw ShellError("nothing to expect") }
            subject = words
            comparison = nil
            return
        }
        subject = Array(words[..<index])
        let rest = words[(index + 1)...]
        guard !subject.isEmpty else { throw ShellError("missing subject before '\(words[index])'") }
        guard !rest.isEmpty else { throw ShellError("missing value after '\(words[index])'") }
        comparison = (op, rest.joined(separator: " "))
    }

    var description: String {
        let name = subject.joined(separator: " ")
        guard let comparison else { return name }
        return "\(name) \(comparison.op.rawValue) \(comparison.value)"
    }

    static func == (lhs: Expectation, rhs: Expectation) -> Bool { lhs.description == rhs.description }

    /// Whether `actual` satisfies the expectation; throws when the value cannot be compared that way.
    func holds(for actual: ShellValue) throws -> Bool {
        let name = subject.joined(separator: " ")
        guard let comparison else {
            guard case .boolean(let value) = actual else {
                throw ShellError("'\(name)' is a \(actual.kindName) (\(actual)); give an operator and a value")
            }
            return value
        }
        let op = comparison.op
        switch actual {
        case .integer, .number:
            let cleaned = comparison.value.replacingOccurrences(of: "_", with: "")
            guard let expected = Double(cleaned), let value = actual.numericValue else {
                throw ShellError("'\(comparison.value)' is not a number, and \(name) is a number")
            }
            switch op {
            case .equal: return value == expected
            case .notEqual: return value != expected
            case .less: return value < expected
            case .lessOrEqual: return value <= expected
            case .greater: return value > expected
            case .greaterOrEqual: return value >= expected
            }
        case .string(let value):
            switch op {
            case .equal: return value == comparison.value
            case .notEqual: return value != comparison.value
            default: throw ShellError("\(name) is a string; only == and != compare strings")
            }
        case .boolean(let value):
            guard let expected = ShellValue.parseBoolean(comparison.value) else {
                throw ShellError("'\(comparison.value)' is not true or false, and \(name) is yes/no")
            }
            switch op {
            case .equal: return value == expected
            case .notEqual: return value != expected
            default: throw ShellError("\(name) is yes/no; only == and != compare it")
            }
        }
    }
}

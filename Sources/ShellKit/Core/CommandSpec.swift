import ArgumentParser
import Foundation

/// What completion needs to know about a command, read from swift-argument-parser's own description of the
/// type (`_dumpHelp()`, the JSON behind `--experimental-dump-help`), so it never drifts from the parser.
public struct CommandSpec: Sendable, Equatable {
    public struct Option: Sendable, Equatable {
        /// Spellings with dashes: `--json`, `-h`.
        public var names: [String]
        /// True when the option consumes the next word.
        public var takesValue: Bool
        public var completion: ValueCompletion
    }

    public enum ValueCompletion: Sendable, Equatable {
        case none
        case values([String])
        case files
    }

    public var options: [Option]
    /// Completion for each positional argument in order; the last one repeats if it is an array.
    public var positionals: [ValueCompletion]
    public var lastPositionalRepeats: Bool
    /// Subcommands by name and alias (`configuration.subcommands`), for `stats reset`-style commands.
    public var subcommands: [String: CommandSpec] = [:]

    public static let empty = CommandSpec(options: [], positionals: [], lastPositionalRepeats: false)

    /// Builds the spec of `type`; an unreadable description gives an empty spec (completion offers less,
    /// nothing breaks).
    public static func of(_ type: any ParsableCommand.Type) -> CommandSpec {
        guard let data = type._dumpHelp().data(using: .utf8),
            let info = try? JSONDecoder().decode(DumpedTool.self, from: data)
        else { return .empty }
        // The dump always lists a synthetic `help` subcommand; only commands with real subcommands have one.
        return spec(of: info.command, withSubcommands: !type.configuration.subcommands.isEmpty)
    }

    private static func spec(of command: DumpedTool.Command, withSubcommands: Bool) -> CommandSpec {
        var options: [Option] = []
        var positionals: [ValueCompletion] = []
        var repeats = false
        for argument in command.arguments ?? [] {
            let completion = argument.valueCompletion
            switch argument.kind {
            case "positional":
                positionals.append(completion)
                repeats = argument.isRepeating
            case "option", "flag":
                let names = (argument.names ?? []).map { name in
                    name.kind == "short" ? "-" + name.name : (name.kind == "longWithSingleDash" ? "-" : "--") + name.name
                }
                options.append(Option(names: names, takesValue: argument.kind == "option", completion: completion))
            default:
                continue
            }
        }
        if !options.contains(where: { $0.names.contains("--help") }) {
            options.append(Option(names: ["--help", "-h"], takesValue: false, completion: .none))
        }
        var spec = CommandSpec(options: options, positionals: positionals, lastPositionalRepeats: repeats)
        if withSubcommands {
            for subcommand in command.subcommands ?? [] {
                let child = Self.spec(of: subcommand, withSubcommands: true)
                for name in [subcommand.commandName] + (subcommand.aliases ?? []) { spec.subcommands[name] = child }
            }
        }
        return spec
    }
}

/// The subset of ArgumentParserToolInfo's ToolInfoV0 JSON that completion reads.
public struct DumpedTool: Decodable {
    public struct Command: Decodable {
        public var commandName: String
        public var aliases: [String]?
        public var arguments: [Argument]?
        public var subcommands: [Command]?
    }
    public struct Name: Decodable {
        public var kind: String
        public var name: String
    }
    public struct Argument: Decodable {
        public var kind: String
        public var isRepeating: Bool
        public var names: [Name]?
        public var allValues: [String]?
        public var completionKind: CompletionKind?

        public var valueCompletion: CommandSpec.ValueCompletion {
            if let completionKind {
                if let list = completionKind.list { return .values(list.values) }
                if completionKind.file != nil || completionKind.directory != nil { return .files }
            }
            if let allValues, !allValues.isEmpty { return .values(allValues) }
            return .none
        }
    }
    public struct CompletionKind: Decodable {
        public struct List: Decodable { var values: [String] }
        public struct File: Decodable {}
        public var list: List?
        public var file: File?
        public var directory: File?
    }
    public var command: Command
}

/// Tab completion, computed from the command definitions, the settings and the figures (no terminal
/// involved, so it is unit-tested directly).
public struct Completer: Sendable {
    /// What to offer for the word under the cursor.
    public enum Result: Sendable, Equatable {
        /// These candidates (already filtered by the partial word, sorted).
        case words([String])
        /// File names (libedit's own file name completion).
        case files
    }

    public let shell: ShellContext

    public init(shell: ShellContext) { self.shell = shell }

    /// Completes `partialWord`, the word under the cursor, given the text of the line before it.
    public func complete(before linePrefix: String, partialWord: String) -> Result {
        let words: [String]
        if let tokenized = try? LineTokenizer.words(linePrefix) {
            words = tokenized
        } else {
            words = linePrefix.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        }
        func matching(_ candidates: [String]) -> Result {
            .words(Array(Set(candidates.filter { $0.hasPrefix(partialWord) })).sorted())
        }
        guard let name = words.first else { return matching(shell.commands.allNames) }
        guard let entry = shell.commands.entry(named: name) else { return .words([]) }
        var arguments = Array(words.dropFirst())
        var spec = shell.commands.spec(of: entry)
        var descended = false
        while let first = arguments.first, let subcommand = spec.subcommands[first] {
            spec = subcommand
            arguments.removeFirst()
            descended = true
        }

        if let previous = arguments.last, let option = spec.option(named: previous), option.takesValue {
            return result(for: option.completion, matching: matching)
        }
        let request = CompletionRequest(previousWords: arguments, partialWord: partialWord)
        if !descended, let custom = entry.type.completions(for: request, in: shell) { return matching(custom) }
        if partialWord.hasPrefix("-") { return matching(spec.options.flatMap(\.names)) }
        if arguments.isEmpty, !spec.subcommands.isEmpty { return matching(Array(spec.subcommands.keys)) }

        var positionalIndex = 0
        var skipNext = false
        for word in arguments {
            if skipNext {
                skipNext = false
                continue
            }
            if let option = spec.option(named: word) {
                skipNext = option.takesValue
                continue
            }
            positionalIndex += 1
        }
        guard !spec.positionals.isEmpty else { return .words([]) }
        let kind: CommandSpec.ValueCompletion
        if positionalIndex < spec.positionals.count {
            kind = spec.positionals[positionalIndex]
        } else if spec.lastPositionalRepeats, let last = spec.positionals.last {
            kind = last
        } else {
            return .words([])
        }
        return result(for: kind, matching: matching)
    }

    private func result(for kind: CommandSpec.ValueCompletion, matching: ([String]) -> Result) -> Result {
        switch kind {
        case .none: return .words([])
        case .files: return .files
        case .values(let values): return matching(values)
        }
    }
}

extension CommandSpec {
    public func option(named word: String) -> Option? {
        let name = word.split(separator: "=", maxSplits: 1).first.map(String.init) ?? word
        if word.contains("=") { return nil }  // --option=value carries its value
        return options.first { $0.names.contains(name) }
    }
}

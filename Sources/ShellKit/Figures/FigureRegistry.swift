import Locking

/// Named figures that `expect SUBJECT OP VALUE` can check. Modules register providers; settings are
/// subjects automatically (see `ExpectCommand`). Names may contain several words (`audit ok`).
public final class FigureRegistry: Sendable {
    /// Computes the current value of a figure.
    public typealias Provider = @Sendable (ShellContext) async throws -> ShellValue

    /// A registered figure.
    public struct Figure: Sendable {
        public let name: String
        public let help: String
        public let provider: Provider
        /// The name split into words, as matched against the words of an `expect` line.
        var words: [String] { name.split(separator: " ").map(String.init) }
    }

    private let figures = Locked([String: Figure]())

    public init() {}

    /// Registers (or replaces) the figure called `name` (words separated by single spaces).
    public func register(_ name: String, help: String, provider: @escaping Provider) {
        let normalized = name.split(separator: " ").joined(separator: " ")
        figures.withLock { $0[normalized] = Figure(name: normalized, help: help, provider: provider) }
    }

    /// The figure whose name is the longest prefix of `words`, and how many words it used.
    public func match(_ words: [String]) -> (figure: Figure, wordCount: Int)? {
        let all = figures.current.values
        var best: (Figure, Int)? = nil
        for figure in all {
            let nameWords = figure.words
            if nameWords.count <= words.count, Array(words.prefix(nameWords.count)) == nameWords,
                nameWords.count > (best?.1 ?? 0)
            {
                best = (figure, nameWords.count)
            }
        }
        return best.map { (figure: $0.0, wordCount: $0.1) }
    }

    /// All figures sorted by name.
    public var all: [Figure] { figures.current.values.sorted { $0.name < $1.name } }
}

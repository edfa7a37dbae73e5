import Foundation

/// Where the interactive history lives and how it is read and written: plain text, one line per entry
/// (oldest first), at most `limit` entries. Only the interactive shell touches it.
public struct HistoryFile: Sendable, Equatable {
    public let path: String
    public let limit: Int

    public init(path: String, limit: Int = 1000) {
        self.path = path
        self.limit = limit
    }

    /// For `playcount`: `$PLAYCOUNT_HISTORY`, else `$XDG_STATE_HOME/playcount/history`, else
    /// `~/.local/state/playcount/history`; nil when none can be formed.
    public static func defaultPath(
        for identity: ShellIdentity, environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> String? {
        if let explicit = environment[identity.historyVariable], !explicit.isEmpty { return explicit }
        if let state = environment["XDG_STATE_HOME"], state.hasPrefix("/") {
            return state + "/\(identity.name)/history"
        }
        if let home = environment["HOME"], !home.isEmpty { return home + "/.local/state/\(identity.name)/history" }
        return nil
    }

    /// The saved lines, oldest first (empty when there is no file yet).
    public func load() -> [String] {
        guard case .success(let bytes) = LineReader.readFile(path) else { return [] }
        return LineReader.lines(of: bytes).map { String(decoding: $0, as: UTF8.self) }.filter { !$0.isEmpty }
    }

    /// Writes the last `limit` lines, creating the directory; returns an error message on failure.
    public func save(_ lines: [String]) -> String? {
        let directory = (path as NSString).deletingLastPathComponent
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let text = lines.suffix(limit).map { $0 + "\n" }.joined()
            try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
            return nil
        } catch {
            return "cannot save history to '\(path)': \(error.localizedDescription)"
        }
    }
}

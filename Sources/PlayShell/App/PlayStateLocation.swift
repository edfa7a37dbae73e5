import Foundation
import PlayState
import ShellKit

/// Resolves the `state` setting to the path `PlayStateStore` opens.
enum PlayStateLocation {
    /// The throwaway store (the shell's default).
    static let inMemory = PlayStateStore.inMemoryPath
    /// The setting value naming the per-user file.
    static let defaultKeyword = "default"

    /// The per-user state file: `$XDG_STATE_HOME/playcount/state.sqlite`, else
    /// `~/.local/state/playcount/state.sqlite`; nil when neither variable is set.
    static func defaultPath(environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        if let state = environment["XDG_STATE_HOME"], !state.isEmpty { return state + "/playcount/state.sqlite" }
        if let home = environment["HOME"], !home.isEmpty { return home + "/.local/state/playcount/state.sqlite" }
        return nil
    }

    /// The path to open for `setting`, creating the default file's directory if needed.
    static func resolve(_ setting: String, in shell: ShellContext) throws -> String {
        if setting == inMemory { return setting }
        if setting == defaultKeyword {
            guard let path = defaultPath() else {
                throw ShellError("state: neither XDG_STATE_HOME nor HOME is set; give a path")
            }
            do {
                try FileManager.default.createDirectory(
                    atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            } catch {
                throw ShellError("state: cannot create the directory of \(path): \(error.localizedDescription)")
            }
            return path
        }
        return shell.resolvePath(setting)
    }
}

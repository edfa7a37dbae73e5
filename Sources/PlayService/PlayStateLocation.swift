import Foundation
import PlayState

/// Resolves the `state` setting to the path `PlayStateStore` opens.
public enum PlayStateLocation {
    /// The throwaway store (the shell's default).
    public static let inMemory = PlayStateStore.inMemoryPath
    /// The setting value naming the per-user file.
    public static let defaultKeyword = "default"

    /// Why a `state` setting names no usable path.
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// The per-user state file: `$XDG_STATE_HOME/playcount/state.sqlite`, else
    /// `~/.local/state/playcount/state.sqlite`; nil when neither variable is set.
    public static func defaultPath(environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        if let state = environment["XDG_STATE_HOME"], !state.isEmpty { return state + "/playcount/state.sqlite" }
        if let home = environment["HOME"], !home.isEmpty { return home + "/.local/state/playcount/state.sqlite" }
        return nil
    }

    /// The path to open for `setting`, creating the default file's directory if needed; any other path goes
    /// through `resolvePath` (a face resolves it against its own working directory).
    public static func resolve(_ setting: String, resolvePath: (String) -> String) throws(Failure) -> String {
        if setting == inMemory { return setting }
        if setting == defaultKeyword {
            guard let path = defaultPath() else {
                throw Failure(description: "state: neither XDG_STATE_HOME nor HOME is set; give a path")
            }
            do {
                try FileManager.default.createDirectory(
                    atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            } catch {
                throw Failure(description: "state: cannot create the directory of \(path): \(error.localizedDescription)")
            }
            return path
        }
        return resolvePath(setting)
    }
}

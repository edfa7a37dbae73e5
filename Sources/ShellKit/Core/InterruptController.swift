import Locking

/// Decides what Ctrl-C means right now: cancel the running command, abandon the prompt's line, or (with
/// nothing running in a script) stop the program.
public final class InterruptController: Sendable {
    public enum Mode: Sendable {
        case idle
        case prompt
        case command
    }

    private struct State {
        var mode: Mode = .idle
        var cancellers: [Int: @Sendable () -> Void] = [:]
        var nextToken = 0
        var interrupted = false
        /// Ctrl-C presses while the same command keeps running.
        var pressesWhileRunning = 0
    }

    /// A command that ignores this many Ctrl-C presses makes the program exit (status 130).
    public static let forceQuitPresses = 3

    private let state = Locked(State())

    /// Called when the user is typing at the prompt (or stops doing so).
    public func setPrompting(_ prompting: Bool) {
        state.withLock { $0.mode = prompting ? .prompt : ($0.cancellers.isEmpty ? .idle : .command) }
    }

    /// Registers a running command's cancel action; returns a token for `endCommand`.
    public func beginCommand(cancel: @escaping @Sendable () -> Void) -> Int {
        state.withLock { state in
            let token = state.nextToken
            state.nextToken += 1
            state.cancellers[token] = cancel
            state.mode = .command
            return token
        }
    }

    /// Ends the command of `token`; returns whether a Ctrl-C came while it ran (taken: it is reported once).
    /// One step under the lock, so a Ctrl-C is either seen here or finds the command gone.
    @discardableResult
    public func endCommand(_ token: Int) -> Bool {
        state.withLock { state in
            state.cancellers[token] = nil
            defer { state.interrupted = false }
            if state.cancellers.isEmpty {
                state.pressesWhileRunning = 0
                if state.mode == .command { state.mode = .idle }
            }
            return state.interrupted
        }
    }

    /// True while a command is running (tests wait on it before interrupting).
    public var hasRunningCommand: Bool { state.withLock { !$0.cancellers.isEmpty } }

    /// What a Ctrl-C did, for the caller to finish outside the lock.
    public enum Effect: Sendable, Equatable {
        /// The running command was asked to stop.
        case cancelledCommand
        /// The running command ignored several Ctrl-C presses: leave the program.
        case forceQuit
        /// The user was typing: the prompt must drop its line.
        case abandonPrompt
        /// Nothing was running (a script waiting for input).
        case idle
    }

    /// Handles one Ctrl-C: cancels the running command(s) and says what else to do.
    @discardableResult
    public func interrupt() -> Effect {
        let (effect, cancellers) = state.withLock { state -> (Effect, [@Sendable () -> Void]) in
            switch state.mode {
            case .prompt:
                return (.abandonPrompt, [])
            case .idle:
                return (.idle, [])
            case .command:
                state.interrupted = true
                state.pressesWhileRunning += 1
                let effect: Effect = state.pressesWhileRunning >= Self.forceQuitPresses ? .forceQuit : .cancelledCommand
                return (effect, Array(state.cancellers.values))
            }
        }
        for cancel in cancellers { cancel() }
        return effect
    }
}

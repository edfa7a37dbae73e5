/// Decides what Ctrl-C means right now: cancel the running command, abandon the prompt's line, or (with
/// nothing running in a script) stop the program.
final class InterruptController: Sendable {
    enum Mode: Sendable {
        case idle
        case prompt
        case command
    }

    private struct State {
        var mode: Mode = .idle
        var cancellers: [Int: @Sendable () -> Void] = [:]
        var nextToken = 0
        var interrupted = false
    }

    private let state = Locked(State())

    /// Called when the user is typing at the prompt (or stops doing so).
    func setPrompting(_ prompting: Bool) {
        state.withLock { $0.mode = prompting ? .prompt : ($0.cancellers.isEmpty ? .idle : .command) }
    }

    /// Registers a running command's cancel action; returns a token for `endCommand`.
    func beginCommand(cancel: @escaping @Sendable () -> Void) -> Int {
        state.withLock { state in
            let token = state.nextToken
            state.nextToken += 1
            state.cancellers[token] = cancel
            state.mode = .command
            return token
        }
    }

    func endCommand(_ token: Int) {
        state.withLock { state in
            state.cancellers[token] = nil
            if state.cancellers.isEmpty, state.mode == .command { state.mode = .idle }
        }
    }

    /// True while a command is running (tests wait on it before interrupting).
    var hasRunningCommand: Bool { state.withLock { !$0.cancellers.isEmpty } }

    /// True (once) when an interrupt cancelled a command since the last call.
    func takeInterrupted() -> Bool {
        state.withLock { state in
            defer { state.interrupted = false }
            return state.interrupted
        }
    }

    /// Handles one Ctrl-C; returns what happened so the caller can act outside the lock.
    @discardableResult
    func interrupt() -> Mode {
        let (mode, cancellers) = state.withLock { state -> (Mode, [@Sendable () -> Void]) in
            if state.mode == .command { state.interrupted = true }
            return (state.mode, Array(state.cancellers.values))
        }
        for cancel in cancellers { cancel() }
        return mode
    }
}

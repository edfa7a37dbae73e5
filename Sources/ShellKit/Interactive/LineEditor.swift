import CEditLine
import CEditLineShim
import Foundation
import Locking

/// The libedit prompt: line editing, history and Tab completion. Only used when stdin and stdout are
/// terminals. There is one per process (libedit's state is global).
public final class LineEditor: Sendable {
    /// What one prompt produced.
    public enum Input: Sendable, Equatable {
        case line(String)
        /// Ctrl-D on an empty line (or stdin closed).
        case endOfInput
        /// Ctrl-C at the prompt: the typed text is abandoned.
        case interrupted
    }

    /// The completer the C callback consults (libedit calls back through a plain C function pointer).
    private static let activeCompleter = Locked<Completer?>(nil)

    /// - Parameter name: libedit's application name, which `~/.editrc` sections select.
    public init(completer: Completer, name: String) {
        setlocale(LC_CTYPE, "")
        Self.activeCompleter.withLock { $0 = completer }
        // Configure before using_history(): libedit's first call initialises from these globals.
        playcount_rl_configure(name)
        playcount_rl_set_completion_function(completionCallback)
        using_history()
    }

    /// Shows `prompt` and reads one line on a dedicated thread (readline blocks).
    public func readLine(prompt: String) async -> Input {
        await withCheckedContinuation { continuation in
            let thread = Thread {
                // Output from other tasks meanwhile is written above the prompt (see PromptAwareSink).
                playcount_prompt_output_begin()
                let pointer = readline(prompt)
                playcount_prompt_output_end()
                guard let pointer else {
                    continuation.resume(returning: playcount_prompt_take_interrupted() != 0 ? .interrupted : .endOfInput)
                    return
                }
                let line = String(decoding: UnsafeRawBufferPointer(start: pointer, count: strlen(pointer)), as: UTF8.self)
                free(pointer)
                continuation.resume(returning: .line(line))
            }
            thread.start()
        }
    }

    /// Adds a line to the in-memory history (Up recalls it).
    public func addHistory(_ line: String) {
        _ = add_history(line)
    }
}

/// libedit's rl_attempted_completion_function: asks the `Completer` and returns readline-style matches
/// (malloc'd; libedit frees them). Returning NULL with "completion over" unset lets libedit complete file
/// names.
private let completionCallback: playcount_completion_fn = { text, start, _ in
    let partial = text.map { String(cString: $0) } ?? ""
    var linePrefix = ""
    if let buffer = playcount_rl_copy_line_buffer() {
        let line = String(cString: buffer)
        free(buffer)
        linePrefix = String(String.UnicodeScalarView(line.unicodeScalars.prefix(max(0, Int(start)))))
    }
    guard let completer = LineEditorCompletion.completer() else {
        playcount_rl_set_attempted_completion_over(1)
        return nil
    }
    switch completer.complete(before: linePrefix, partialWord: partial) {
    case .files:
        playcount_rl_set_attempted_completion_over(0)
        return nil
    case .words(let candidates):
        playcount_rl_set_attempted_completion_over(1)
        guard !candidates.isEmpty else { return nil }
        let entries = candidates.count == 1 ? candidates : [LineEditorCompletion.commonPrefix(candidates)] + candidates
        let matches = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>.allocate(capacity: entries.count + 1)
        for (index, entry) in entries.enumerated() { matches[index] = strdup(entry) }
        matches[entries.count] = nil
        // libedit releases the array with free(); hand it malloc'd memory.
        let size = MemoryLayout<UnsafeMutablePointer<CChar>?>.stride * (entries.count + 1)
        guard let raw = malloc(size) else {
            for index in 0..<entries.count { free(matches[index]) }
            matches.deallocate()
            return nil
        }
        let array = raw.bindMemory(to: UnsafeMutablePointer<CChar>?.self, capacity: entries.count + 1)
        array.update(from: matches, count: entries.count + 1)
        matches.deallocate()
        return array
    }
}

/// Helpers for the completion callback.
public enum LineEditorCompletion {
    public static func completer() -> Completer? { LineEditor.currentCompleter }

    /// The longest common prefix of `words` (by characters).
    public static func commonPrefix(_ words: [String]) -> String {
        guard var prefix = words.first else { return "" }
        for word in words.dropFirst() {
            while !word.hasPrefix(prefix) { prefix.removeLast() }
        }
        return prefix
    }
}

extension LineEditor {
    public static var currentCompleter: Completer? { activeCompleter.current }
}

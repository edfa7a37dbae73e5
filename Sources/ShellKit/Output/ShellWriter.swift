import CEditLineShim
import Foundation
import Locking

/// Where a shell stream's text goes: a file descriptor in the real program, a buffer in tests.
public protocol TextSink: Sendable {
    func write(_ text: String)
}

/// Writes to a file descriptor (stdout 1, stderr 2), retrying short writes; errors such as a closed pipe are
/// ignored so a vanished reader never crashes the shell.
public struct FileDescriptorSink: TextSink {
    public let descriptor: Int32
    public init(descriptor: Int32) { self.descriptor = descriptor }

    public func write(_ text: String) {
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { buffer -> Int in
                guard let base = buffer.baseAddress else { return 0 }
                return Foundation.write(descriptor, base + offset, buffer.count - offset)
            }
            if written < 0 {
                if errno == EINTR { continue }
                return
            }
            if written == 0 { return }
            offset += written
        }
    }
}

/// A terminal's stdout or stderr in the interactive shell: text written while the user edits a prompt (a
/// client's line, a warning from another task) is handed to the prompt, which clears its line, writes the text
/// and redraws itself with what was typed so far; at any other time it is written at once.
public struct PromptAwareSink: TextSink {
    public let descriptor: Int32
    public init(descriptor: Int32) { self.descriptor = descriptor }

    public func write(_ text: String) {
        var text = text
        let queued = text.withUTF8 { bytes in
            bytes.withMemoryRebound(to: CChar.self) {
                playcount_prompt_output_post(descriptor, $0.baseAddress, UInt($0.count))
            }
        }
        if queued == 0 { FileDescriptorSink(descriptor: descriptor).write(text) }
    }
}

/// Collects everything written, for tests.
public final class CapturingSink: TextSink, @unchecked Sendable {
    private let buffer = Locked("")
    public init() {}
    public func write(_ text: String) { buffer.withLock { $0 += text } }
    /// Everything written so far.
    public var text: String { buffer.current }
}

/// One output stream of the shell (stdout or stderr) with `print`-like helpers.
public struct ShellWriter: Sendable {
    public let sink: any TextSink
    public init(_ sink: any TextSink) { self.sink = sink }

    /// Writes `text` followed by `terminator` (a newline by default).
    public func print(_ text: String = "", terminator: String = "\n") {
        sink.write(text + terminator)
    }

    /// Writes `text` as is.
    public func write(_ text: String) { sink.write(text) }
}

import Foundation

/// Appends the receipt log to a file; `sink` plugs into `PlayProcessor(receiptSink:)`.
/// Writes go straight to the descriptor through ``FileDescriptorWriter``, like the file publish client.
public final class ReceiptLogFile: @unchecked Sendable {
    private let lock = NSLock()
    private let path: String
    /// -1 once closed; guarded by `lock`.
    private var fd: Int32

    /// Creates (or truncates) the file at `path`.
    public init(path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw LogParseError(line: 0, reason: "cannot create receipt log \(path)") }
        self.fd = fd
        self.path = path
    }

    /// Writes one chunk of lines; errors, and writes after the file is closed, are ignored.
    public func write(_ chunk: String) {
        lock.withLock {
            guard fd >= 0 else { return }
            try? FileDescriptorWriter.writeAll(Array(chunk.utf8), to: fd, target: path)
        }
    }

    public var sink: @Sendable (String) -> Void { { [self] chunk in self.write(chunk) } }

    public func close() {
        lock.withLock {
            guard fd >= 0 else { return }
            FileDescriptorWriter.closeDescriptor(fd)
            fd = -1
        }
    }

    deinit { close() }
}

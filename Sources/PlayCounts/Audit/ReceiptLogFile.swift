import Foundation

/// Appends the receipt log to a file; `sink` plugs into `PlayProcessor(receiptSink:)`.
/// Writes go straight to the descriptor through ``FileDescriptorWriter``, like the file publish client.
public final class ReceiptLogFile: @unchecked Sendable {
    private let lock = NSLock()
    private let path: String
    /// -1 once closed; guarded by `lock`.
    private var fd: Int32

    /// Where an appended log left off: its last batch number and the instant its `at_ms` count from.
    public struct ResumePoint: Sendable, Equatable {
        public var lastBatch: Int
        public var origin: WallNanoseconds
    }

    /// Set when the file was opened for appending and already held receipts.
    public let resumePoint: ResumePoint?

    /// Creates (or truncates) the file at `path`; with `appending`, adds to what it holds instead, so that one
    /// log covers every run of a durable state. A last line cut short (the process died while writing it) is
    /// dropped: its receipts were written before their commit, so their plays are delivered, and recorded,
    /// again.
    public init(path: String, appending: Bool = false) throws {
        let fd = open(path, O_RDWR | O_CREAT | (appending ? O_APPEND : O_TRUNC) | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw LogParseError(line: 0, reason: "cannot create receipt log \(path)") }
        self.fd = fd
        self.path = path
        resumePoint = appending ? Self.resume(fd) : nil
    }

    /// Drops a partial last line, then reads the first and last lines' batch and times.
    private static func resume(_ fd: Int32) -> ResumePoint? {
        let size = lseek(fd, 0, SEEK_END)
        guard size > 0 else { return nil }
        let tailStart = max(0, size - 64 * 1024)
        var tail = [UInt8](repeating: 0, count: Int(size - tailStart))
        guard pread(fd, &tail, tail.count, tailStart) == tail.count else { return nil }
        if tail.last != UInt8(ascii: "\n") {
            guard let newline = tail.lastIndex(of: UInt8(ascii: "\n")) else {
                // Not one whole line: a first line cut short is dropped; anything else is not ours to cut.
                if tailStart == 0 { _ = ftruncate(fd, 0) }
                return nil
            }
            _ = ftruncate(fd, tailStart + off_t(newline) + 1)
            tail.removeSubrange((newline + 1)...)
        }
        var head = [UInt8](repeating: 0, count: 4096)
        head.removeLast(head.count - max(0, pread(fd, &head, head.count, 0)))
        guard let first = head.split(separator: UInt8(ascii: "\n")).first,
              let last = tail.split(separator: UInt8(ascii: "\n")).last,
              let firstRecord = try? ReceiptLog.parse(line: String(decoding: first, as: UTF8.self)),
              let lastRecord = try? ReceiptLog.parse(line: String(decoding: last, as: UTF8.self))
        else { return nil }
        return ResumePoint(
            lastBatch: lastRecord.batch,
            origin: firstRecord.receivedAt.saturatingSubtract(firstRecord.atMs.multipliedReportingOverflow(by: 1_000_000).partialValue))
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

import Foundation

/// Appends the receipt log to a file; `sink` plugs into `PlayProcessor(receiptSink:)`.
public final class ReceiptLogFile: @unchecked Sendable {
    private let lock = NSLock()
    private let handle: FileHandle
    private var closed = false

    /// Creates (or truncates) the file at `path`.
    public init(path: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil) else {
            throw LogParseError(line: 0, reason: "cannot create receipt log \(path)")
        }
        handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
    }

    /// Writes one chunk of lines; errors after the file is closed are ignored.
    public func write(_ chunk: String) {
        lock.withLock {
            guard !closed else { return }
            try? handle.write(contentsOf: Data(chunk.utf8))
        }
    }

    public var sink: @Sendable (String) -> Void { { [self] chunk in self.write(chunk) } }

    public func close() {
        lock.withLock {
            guard !closed else { return }
            closed = true
            try? handle.close()
        }
    }

    deinit { close() }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

import PlayCounts
/// Appends one JSON line per publish call to a file, opened once in append mode (created if missing).
/// Each line goes to the kernel with a single `write(2)` per call, so nothing waits in a buffer.
public actor FilePublishClient: PublishClient {
    public nonisolated let path: String
    public nonisolated let description: String
    private var fd: Int32

    /// Opens (or creates, mode 0644) `path` for appending; throws if it cannot be opened.
    public init(path: String) throws {
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw PublishClientError.cannotOpen(path: path, errno: errno) }
        self.fd = fd
        self.path = path
        self.description = "file:\(path)"
    }

    public func publish(_ call: PublishCall) async throws {
        guard fd >= 0 else { throw PublishClientError.closed(description) }
        try FileDescriptorWriter.writeAll(PublishCallEncoder.encodeLine(call), to: fd, target: path)
    }

    /// Closes the file; later publishes throw. Also happens when the client is released.
    public func close() {
        if fd >= 0 {
            FileDescriptorWriter.closeDescriptor(fd)
            fd = -1
        }
    }

    public func shutdown() { close() }

    deinit {
        if fd >= 0 { FileDescriptorWriter.closeDescriptor(fd) }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Why writing a publish line failed.
public struct PublishWriteError: Error, Sendable, CustomStringConvertible {
    public var target: String
    public var errno: Int32

    public var description: String { "cannot write to \(target): \(String(cString: strerror(errno)))" }
}

/// Writes whole byte arrays to a file descriptor with `write(2)`, retrying short writes and EINTR.
/// No user-space buffering, so every line is handed to the kernel when `write` returns ("flushed").
public enum FileDescriptorWriter {
    public static func writeAll(_ bytes: [UInt8], to fd: Int32, target: String) throws(PublishWriteError) {
        var failure: Int32 = 0
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                guard let base = buffer.baseAddress else { return }
                let written = write(fd, base + offset, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    failure = errno
                    return
                }
                offset += written
            }
        }
        if failure != 0 { throw PublishWriteError(target: target, errno: failure) }
    }

    /// `close(2)`, reachable from types that have a `close()` method of their own.
    public static func closeDescriptor(_ fd: Int32) {
        _ = close(fd)
    }
}

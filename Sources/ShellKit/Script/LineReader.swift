import Foundation

/// Reads lines of raw bytes (without the newline) from a file descriptor or a byte buffer. Bytes stay
/// bytes: decoding (and the invalid-UTF-8 error) happens per line in the script runner.
public enum LineReader {
    /// Splits `bytes` into lines; a trailing newline does not make an extra empty line.
    public static func lines(of bytes: [UInt8]) -> [[UInt8]] {
        var lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map(Array.init)
        if bytes.last == UInt8(ascii: "\n") { lines.removeLast() }
        return lines
    }

    /// Streams the lines of `descriptor` as they arrive (a dedicated thread blocks in read(2), so the
    /// cooperative pool never does). Commands piped in one at a time run one at a time.
    public static func stream(descriptor: Int32) -> AsyncStream<[UInt8]> {
        let (stream, continuation) = AsyncStream.makeStream(of: [UInt8].self)
        let thread = Thread {
            var pending: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 64 * 1024)
            while true {
                let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
                if count < 0 {
                    if errno == EINTR { continue }
                    break
                }
                if count == 0 { break }
                var start = pending.count
                pending.append(contentsOf: buffer[0..<count])
                var lineStart = 0
                while let newline = pending[start...].firstIndex(of: UInt8(ascii: "\n")) {
                    continuation.yield(Array(pending[lineStart..<newline]))
                    lineStart = newline + 1
                    start = lineStart
                }
                pending.removeFirst(lineStart)
            }
            if !pending.isEmpty { continuation.yield(pending) }
            continuation.finish()
        }
        thread.start()
        return stream
    }

    /// An already-known list of lines as a stream.
    public static func stream(_ lines: [[UInt8]]) -> AsyncStream<[UInt8]> {
        let (stream, continuation) = AsyncStream.makeStream(of: [UInt8].self)
        for line in lines { continuation.yield(line) }
        continuation.finish()
        return stream
    }

    /// The whole content of the file at `path`, or the reason (`No such file or directory`) it could not be read.
    public static func readFile(_ path: String) -> Result<[UInt8], ShellError> {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return .failure(ShellError(String(cString: strerror(errno)))) }
        defer { close(descriptor) }
        var status = stat()
        if fstat(descriptor, &status) == 0, (status.st_mode & S_IFMT) == S_IFDIR {
            return .failure(ShellError("is a directory"))
        }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                return .failure(ShellError(String(cString: strerror(errno))))
            }
            if count == 0 { break }
            bytes.append(contentsOf: buffer[0..<count])
        }
        return .success(bytes)
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

import PlayCounts
/// Records a trace as `seed --rate R` sends: one `{"at_ms": <ms>, "video_id": "<guid>"}` line per play,
/// appended to a file that ``TraceParser`` reads back.
public actor TraceWriter {
    public nonisolated let path: String
    private var fd: Int32
    private var buffer: [UInt8] = []
    /// Lines are written in blocks of about this size, and on ``flush()`` / ``close()``.
    private let blockSize = 64 * 1024

    /// Creates or truncates `path`.
    public init(path: String) throws(TraceFileError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw TraceFileError(path: path, errno: errno) }
        self.fd = fd
        self.path = path
    }

    /// Appends one record.
    public func record(_ record: TraceRecord) throws(TraceFileError) {
        guard fd >= 0 else { throw TraceFileError(path: path, errno: EBADF) }
        Self.appendLine(record, to: &buffer)
        if buffer.count >= blockSize { try flush() }
    }

    /// Appends one play sent `offsetNanoseconds` after the start.
    public func record(video: VideoID, offsetNanoseconds: Int64) throws(TraceFileError) {
        try record(TraceRecord(offsetNanoseconds: offsetNanoseconds, video: video))
    }

    /// Writes buffered lines to the file.
    public func flush() throws(TraceFileError) {
        guard fd >= 0 else { throw TraceFileError(path: path, errno: EBADF) }
        do {
            try FileDescriptorWriter.writeAll(buffer, to: fd, target: path)
        } catch {
            throw TraceFileError(path: path, errno: error.errno)
        }
        buffer.removeAll(keepingCapacity: true)
    }

    /// Flushes and closes; later records throw.
    public func close() throws(TraceFileError) {
        guard fd >= 0 else { return }
        defer {
            FileDescriptorWriter.closeDescriptor(fd)
            fd = -1
        }
        try flush()
    }

    deinit {
        if fd >= 0 {
            try? FileDescriptorWriter.writeAll(buffer, to: fd, target: path)
            FileDescriptorWriter.closeDescriptor(fd)
        }
    }

    /// The line for one record, e.g. `{"at_ms": 1500, "video_id": "…"}` (fractional ms only when needed).
    public static func line(_ record: TraceRecord) -> String {
        var out: [UInt8] = []
        appendLine(record, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// The offset of message `index` when sending at `rate` messages per second, in nanoseconds.
    public static func offsetNanoseconds(forMessage index: Int, rate: Double) -> Int64 {
        guard rate > 0, rate.isFinite else { return 0 }
        let value = (Double(index) * 1e9 / rate).rounded()
        return value >= Double(Int64.max) ? Int64.max : Int64(value)
    }

    static func appendLine(_ record: TraceRecord, to out: inout [UInt8]) {
        out.append(contentsOf: #"{"at_ms": "#.utf8)
        let nanos = record.offsetNanoseconds.magnitude
        if record.offsetNanoseconds < 0 { out.append(UInt8(ascii: "-")) }
        ASCIIDecimal.append(Int64(nanos / 1_000_000), to: &out)
        var fraction = nanos % 1_000_000
        if fraction != 0 {
            out.append(UInt8(ascii: "."))
            var digits: [UInt8] = []
            for _ in 0..<6 {
                digits.append(UInt8(ascii: "0") + UInt8(fraction / 100_000))
                fraction = fraction % 100_000 * 10
            }
            while digits.last == UInt8(ascii: "0") { digits.removeLast() }
            out.append(contentsOf: digits)
        }
        out.append(contentsOf: #", "video_id": ""#.utf8)
        record.video.appendCanonicalUTF8(to: &out)
        out.append(contentsOf: "\"}\n".utf8)
    }
}

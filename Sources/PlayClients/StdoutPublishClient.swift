#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

import PlayCounts
/// Prints one JSON line per publish call on standard output.
public actor StdoutPublishClient: PublishClient {
    private let fd: Int32
    public nonisolated let description: String

    public init() {
        self.init(fileDescriptor: STDOUT_FILENO, description: "stdout")
    }

    /// Writes to an already-open descriptor it does not own (tests pass a pipe).
    init(fileDescriptor: Int32, description: String) {
        self.fd = fileDescriptor
        self.description = description
    }

    public func publish(_ call: PublishCall) async throws {
        try FileDescriptorWriter.writeAll(PublishCallEncoder.encodeLine(call), to: fd, target: description)
    }
}

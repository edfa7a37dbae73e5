import Foundation
import NIOCore
#if canImport(Glibc)
import Glibc
#endif

/// A blocking loopback TCP client for tests: exact bytes out, frames or raw bytes in, with deadlines.
final class TestSocket {
    enum Failure: Error, CustomStringConvertible {
        case connect(Int32)
        case timeout(String)
        case closed
        var description: String {
            switch self {
            case .connect(let code): "connect failed, errno \(code)"
            case .timeout(let what): "timed out waiting for \(what)"
            case .closed: "connection closed by server"
            }
        }
    }

    /// A server frame: `uint32 size | int32 type | data`.
    struct Frame: Equatable, CustomStringConvertible {
        var type: Int32
        var data: [UInt8]
        var text: String { String(decoding: data, as: UTF8.self) }
        var isHeartbeat: Bool { type == 0 && data == Array("_heartbeat_".utf8) }
        var bytes: [UInt8] {
            var out: [UInt8] = []
            withUnsafeBytes(of: UInt32(4 + data.count).bigEndian) { out += $0 }
            withUnsafeBytes(of: type.bigEndian) { out += $0 }
            return out + data
        }
        var description: String { type == 2 ? "message(\(data.count) bytes)" : "type \(type): \(text)" }
        /// For message frames.
        var timestamp: Int64 { data.prefix(8).reduce(0) { $0 << 8 | Int64($1) } }
        var attempts: UInt16 { data.dropFirst(8).prefix(2).reduce(0) { $0 << 8 | UInt16($1) } }
        var messageID: String { String(decoding: data.dropFirst(10).prefix(16), as: UTF8.self) }
        var body: [UInt8] { Array(data.dropFirst(26)) }
    }

    private let descriptor: Int32
    private var received: [UInt8] = []
    private(set) var isClosedByPeer = false

    init(port: Int, host: String = "127.0.0.1") throws {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        inet_pton(AF_INET, host, &address.sin_addr)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        if result != 0 {
            let code = errno
            Glibc.close(descriptor)
            throw Failure.connect(code)
        }
        var one: Int32 = 1
        setsockopt(descriptor, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    deinit { Glibc.close(descriptor) }

    func send(_ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if sent <= 0 { return }
            offset += sent
        }
    }

    func send(_ text: String) { send(Array(text.utf8)) }

    /// Sends a command with a length-prefixed body (IDENTIFY, PUB, DPUB).
    func send(command: String, body: [UInt8]) {
        var bytes = Array((command + "\n").utf8)
        withUnsafeBytes(of: UInt32(body.count).bigEndian) { bytes += $0 }
        send(bytes + body)
    }

    /// Reads more bytes, waiting at most until `deadline`; false on timeout, throws when the peer closed.
    /// Never blocks a thread: it polls without waiting and sleeps between polls, so parallel tests do not
    /// starve the cooperative thread pool.
    private func fill(until deadline: ContinuousClock.Instant) async throws -> Bool {
        var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        while poll(&poller, 1, 0) <= 0 {
            guard ContinuousClock.now < deadline else { return false }
            try? await Task.sleep(for: .milliseconds(2))
            poller.revents = 0
        }
        var chunk = [UInt8](repeating: 0, count: 65536)
        let count = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
        if count <= 0 {
            isClosedByPeer = true
            throw Failure.closed
        }
        received += chunk[0..<count]
        return true
    }

    /// The next whole frame, or a `timeout` / `closed` failure.
    func readFrame(timeout: Duration = .seconds(5)) async throws -> Frame {
        let deadline = ContinuousClock.now + timeout
        while true {
            if received.count >= 8 {
                let size = Int(received.prefix(4).reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
                if received.count >= 4 + size {
                    let type = Int32(bitPattern: received[4..<8].reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
                    let frame = Frame(type: type, data: Array(received[8..<4 + size]))
                    received.removeFirst(4 + size)
                    return frame
                }
            }
            guard try await fill(until: deadline) else { throw Failure.timeout("a frame") }
        }
    }

    /// The next frame that is not a heartbeat.
    func readNonHeartbeat(timeout: Duration = .seconds(5)) async throws -> Frame {
        let deadline = ContinuousClock.now + timeout
        while true {
            let frame = try await readFrame(timeout: deadline - ContinuousClock.now)
            if !frame.isHeartbeat { return frame }
        }
    }

    /// The next `count` frames that are not heartbeats.
    func readNonHeartbeats(_ count: Int, timeout: Duration = .seconds(5)) async throws -> [Frame] {
        var frames: [Frame] = []
        while frames.count < count { frames.append(try await readNonHeartbeat(timeout: timeout)) }
        return frames
    }

    /// Reads until the server closes; returns the frames received meanwhile. Throws on timeout.
    func readUntilClosed(timeout: Duration = .seconds(5)) async throws -> [Frame] {
        let deadline = ContinuousClock.now + timeout
        var frames: [Frame] = []
        while true {
            do {
                frames.append(try await readFrame(timeout: deadline - ContinuousClock.now))
            } catch Failure.closed {
                return frames
            }
        }
    }

    /// Raw bytes until the peer closes or `timeout` passes.
    func readAll(timeout: Duration) async -> (bytes: [UInt8], closed: Bool) {
        let deadline = ContinuousClock.now + timeout
        while true {
            do {
                if try await !fill(until: deadline) { return (received, false) }
            } catch {
                return (received, true)
            }
        }
    }

    /// Reads one HTTP/1.1 response (head + Content-Length body); returns its raw text.
    func readHTTPResponse(timeout: Duration = .seconds(5)) async throws -> String {
        let deadline = ContinuousClock.now + timeout
        while true {
            let text = String(decoding: received, as: UTF8.self)
            if let headEnd = text.range(of: "\r\n\r\n") {
                let head = text[..<headEnd.lowerBound]
                let length = head.split(separator: "\r\n").first { $0.lowercased().hasPrefix("content-length:") }
                    .flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) } ?? 0
                let headBytes = head.utf8.count + 4
                if received.count >= headBytes + length {
                    let response = String(decoding: received[0..<headBytes + length], as: UTF8.self)
                    received.removeFirst(headBytes + length)
                    return response
                }
            }
            do {
                guard try await fill(until: deadline) else { throw Failure.timeout("an HTTP response") }
            } catch Failure.closed {
                throw Failure.closed
            }
        }
    }
}

extension TestSocket {
    /// Connects and sends the V2 magic.
    static func v2(port: Int) throws -> TestSocket {
        let socket = try TestSocket(port: port)
        socket.send(Array("  V2".utf8))
        return socket
    }

    /// IDENTIFY with the given JSON object text.
    func identify(_ json: String) { send(command: "IDENTIFY", body: Array(json.utf8)) }
}

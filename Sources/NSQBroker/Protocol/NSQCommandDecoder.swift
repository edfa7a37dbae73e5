import NIOCore
import NSQ

/// Frames the client → server byte stream of protocol V2 into ``NSQClientInbound`` values.
///
/// It reads exactly as nsqd's `protocolV2.IOLoop` does: the 4-byte magic, then `\n`-terminated lines
/// (a trailing `\r` dropped), and for body-carrying commands the checks nsqd makes *before* reading the
/// body (parameters, names, sizes), so errors come out at the same point of the stream. MPUB bodies
/// are read message by message from the stream, as nsqd's `readMPUB` does. After a fatal error it
/// swallows all further input.
struct NSQCommandDecoder: ByteToMessageDecoder {
    typealias InboundOut = NSQClientInbound

    /// nsqd reads lines through a 16 KiB `bufio.Reader`; a longer line ends the connection.
    static let maxLineLength = 16 * 1024

    struct Limits: Sendable {
        var maxMsgSize: Int64 = 1_048_576
        var maxBodySize: Int64 = 5 * 1_048_576
        /// Maximum DPUB/REQ delay, in milliseconds.
        var maxReqTimeoutMilliseconds: Int64 = 3_600_000
    }

    private enum BodyKind {
        case identify
        case auth
        case publish(topic: String)
        case deferredPublish(topic: String, delayMilliseconds: Int64)
    }

    private enum State {
        case magic
        case line
        case bodyLength(BodyKind)
        case body(BodyKind, length: Int)
        case multiPublishLength(topic: String)
        case multiPublishCount(topic: String)
        case multiPublishMessageSize(topic: String, count: Int, bodies: [ByteBuffer])
        case multiPublishMessage(topic: String, count: Int, bodies: [ByteBuffer], size: Int)
        case failed
    }

    private var state: State = .magic
    /// nsqd's client leaves `stateInit` only through a SUB (a failed SUB is fatal), which decides
    /// whether IDENTIFY and AUTH are allowed.
    private var isInitialState = true
    let limits: Limits

    init(limits: Limits = Limits()) {
        self.limits = limits
    }

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let inbound = next(&buffer) else { return .needMoreData }
        context.fireChannelRead(Self.wrapInboundOut(inbound))
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        // A partial command at EOF is dropped, as nsqd does when the read fails.
        guard case .line = state else { return .needMoreData }
        return try decode(context: context, buffer: &buffer)
    }

    /// Decodes the next value from `buffer`, consuming its bytes; nil when more bytes are needed.
    mutating func next(_ buffer: inout ByteBuffer) -> NSQClientInbound? {
        while true {
            switch state {
            case .failed:
                buffer.moveReaderIndex(to: buffer.writerIndex)
                return nil

            case .magic:
                guard let magic = buffer.readBytes(length: 4) else { return nil }
                if magic == NSQProtocol.magicV2 {
                    state = .line
                    return .accepted
                }
                return fail(.badProtocol)

            case .line:
                let view = buffer.readableBytesView
                guard let newline = view.firstIndex(of: UInt8(ascii: "\n")) else {
                    if buffer.readableBytes >= Self.maxLineLength {
                        state = .failed
                        return .closeSilently
                    }
                    return nil
                }
                let length = newline - view.startIndex
                if length + 1 > Self.maxLineLength {
                    state = .failed
                    return .closeSilently
                }
                var lineEnd = newline
                if length > 0, view[newline - 1] == UInt8(ascii: "\r") { lineEnd -= 1 }
                let line = view[view.startIndex..<lineEnd]
                defer { buffer.moveReaderIndex(forwardBy: length + 1) }
                if let inbound = startCommand(line) { return inbound }
                continue

            case .bodyLength(let kind):
                guard let raw = buffer.readInteger(as: UInt32.self) else { return nil }
                let length = Int64(Int32(bitPattern: raw))
                if let error = checkBodyLength(kind, length) { return fail(error) }
                state = .body(kind, length: Int(length))

            case .body(let kind, let length):
                guard let body = buffer.readSlice(length: length) else { return nil }
                state = .line
                switch kind {
                case .identify: return .command(.identify(body: body))
                case .auth: return .command(.auth(body: body))
                case .publish(let topic): return .command(.publish(topic: topic, body: body))
                case .deferredPublish(let topic, let delay):
                    return .command(.deferredPublish(topic: topic, delayMilliseconds: delay, body: body))
                }

            case .multiPublishLength(let topic):
                guard let raw = buffer.readInteger(as: UInt32.self) else { return nil }
                let length = Int64(Int32(bitPattern: raw))
                if length <= 0 { return fail(.badBody("MPUB invalid body size \(length)")) }
                if length > limits.maxBodySize {
                    return fail(.badBody("MPUB body too big \(length) > \(limits.maxBodySize)"))
                }
                state = .multiPublishCount(topic: topic)

            case .multiPublishCount(let topic):
                guard let raw = buffer.readInteger(as: UInt32.self) else { return nil }
                let count = Int64(Int32(bitPattern: raw))
                // 4 bytes of count, then at least 5 per message (length + 1 byte).
                let maxMessages = (limits.maxBodySize - 4) / 5
                if count <= 0 || count > maxMessages { return fail(.badBody("MPUB invalid message count \(count)")) }
                var bodies: [ByteBuffer] = []
                bodies.reserveCapacity(Int(min(count, 1024)))
                state = .multiPublishMessageSize(topic: topic, count: Int(count), bodies: bodies)

            case .multiPublishMessageSize(let topic, let count, let bodies):
                guard let raw = buffer.readInteger(as: UInt32.self) else { return nil }
                let size = Int64(Int32(bitPattern: raw))
                if size <= 0 { return fail(.badMessage("MPUB invalid message(\(bodies.count)) body size \(size)")) }
                if size > limits.maxMsgSize {
                    return fail(.badMessage("MPUB message too big \(size) > \(limits.maxMsgSize)"))
                }
                state = .multiPublishMessage(topic: topic, count: count, bodies: bodies, size: Int(size))

            case .multiPublishMessage(let topic, let count, var bodies, let size):
                guard let body = buffer.readSlice(length: size) else { return nil }
                state = .failed  // drop the array reference so the append below does not copy
                bodies.append(body)
                if bodies.count == count {
                    state = .line
                    return .command(.multiPublish(topic: topic, bodies: bodies))
                }
                state = .multiPublishMessageSize(topic: topic, count: count, bodies: bodies)
            }
        }
    }

    private mutating func fail(_ error: NSQBrokerError) -> NSQClientInbound {
        state = .failed
        return .fatal(error)
    }

    /// Handles one command line; returns a value to emit, or nil when a body follows (state updated).
    private mutating func startCommand(_ line: ByteBufferView) -> NSQClientInbound? {
        // Fast path for the hottest command: exactly `FIN <16-byte id>`.
        if line.count == 20, line.starts(with: Self.finPrefix) {
            var high: UInt64 = 0
            var low: UInt64 = 0
            var index = line.startIndex + 4
            for _ in 0..<8 { high = high << 8 | UInt64(line[index]); index += 1 }
            for _ in 0..<8 { low = low << 8 | UInt64(line[index]); index += 1 }
            return .command(.finish(NSQMessageID(high: high, low: low)))
        }
        let params = line.split(separator: UInt8(ascii: " "), omittingEmptySubsequences: false).map { Array($0) }
        let name = params[0]
        switch name {
        case Self.identifyName:
            guard isInitialState else { return fail(.invalid("cannot IDENTIFY in current state")) }
            state = .bodyLength(.identify)
            return nil
        case Self.authName:
            guard isInitialState else { return fail(.invalid("cannot AUTH in current state")) }
            guard params.count == 1 else { return fail(.invalid("AUTH invalid number of parameters")) }
            state = .bodyLength(.auth)
            return nil
        case Self.pubName:
            guard params.count >= 2 else { return fail(.invalid("PUB insufficient number of parameters")) }
            guard Self.isValidName(params[1]) else {
                return fail(.badTopic("PUB", params[1]))
            }
            state = .bodyLength(.publish(topic: String(decoding: params[1], as: UTF8.self)))
            return nil
        case Self.mpubName:
            guard params.count >= 2 else { return fail(.invalid("MPUB insufficient number of parameters")) }
            guard Self.isValidName(params[1]) else { return fail(.badTopic("MPUB", params[1])) }
            state = .multiPublishLength(topic: String(decoding: params[1], as: UTF8.self))
            return nil
        case Self.dpubName:
            guard params.count >= 3 else { return fail(.invalid("DPUB insufficient number of parameters")) }
            guard Self.isValidName(params[1]) else { return fail(.badTopic("DPUB", params[1])) }
            guard let milliseconds = GoFormat.base10(params[2]) else {
                return fail(.invalid(Array("DPUB could not parse timeout ".utf8), params[2]))
            }
            let nanoseconds = Int64(bitPattern: milliseconds) &* 1_000_000
            if nanoseconds < 0 || nanoseconds > limits.maxReqTimeoutMilliseconds * 1_000_000 {
                return fail(.invalid("DPUB timeout \(milliseconds) out of range 0-\(limits.maxReqTimeoutMilliseconds)"))
            }
            state = .bodyLength(.deferredPublish(topic: String(decoding: params[1], as: UTF8.self),
                                                 delayMilliseconds: Int64(milliseconds)))
            return nil
        case Self.subName:
            isInitialState = false
            return .command(.line(params))
        default:
            return .command(.line(params))
        }
    }

    private func checkBodyLength(_ kind: BodyKind, _ length: Int64) -> NSQBrokerError? {
        switch kind {
        case .identify, .auth:
            let command = if case .identify = kind { "IDENTIFY" } else { "AUTH" }
            if length > limits.maxBodySize {
                return .badBody("\(command) body too big \(length) > \(limits.maxBodySize)")
            }
            if length <= 0 { return .badBody("\(command) invalid body size \(length)") }
            return nil
        case .publish, .deferredPublish:
            let command = if case .publish = kind { "PUB" } else { "DPUB" }
            if length <= 0 { return .badMessage("\(command) invalid message body size \(length)") }
            if length > limits.maxMsgSize {
                return .badMessage("\(command) message too big \(length) > \(limits.maxMsgSize)")
            }
            return nil
        }
    }

    static func isValidName(_ bytes: [UInt8]) -> Bool {
        bytes.allSatisfy { $0 < 0x80 } && NSQProtocol.isValidName(String(decoding: bytes, as: UTF8.self))
    }

    private static let finPrefix = Array("FIN ".utf8)
    private static let identifyName = Array("IDENTIFY".utf8)
    private static let authName = Array("AUTH".utf8)
    private static let pubName = Array("PUB".utf8)
    private static let mpubName = Array("MPUB".utf8)
    private static let dpubName = Array("DPUB".utf8)
    private static let subName = Array("SUB".utf8)
}

extension NSQCommandDecoder {
    /// Reads an HTTP `/mpub?binary=true` body: `uint32 count`, then per message `uint32 size` + bytes,
    /// with nsqd's `readMPUB` checks.
    func readBinaryMultiPublish(_ body: ByteBuffer) -> Result<[ByteBuffer], NSQBrokerError> {
        var body = body
        guard let rawCount = body.readInteger(as: UInt32.self) else {
            return .failure(.badBody("MPUB failed to read message count"))
        }
        let count = Int64(Int32(bitPattern: rawCount))
        let maxMessages = (limits.maxBodySize - 4) / 5
        if count <= 0 || count > maxMessages { return .failure(.badBody("MPUB invalid message count \(count)")) }
        var bodies: [ByteBuffer] = []
        for index in 0..<Int(count) {
            guard let rawSize = body.readInteger(as: UInt32.self) else {
                return .failure(.badMessage("MPUB failed to read message(\(index)) body size"))
            }
            let size = Int64(Int32(bitPattern: rawSize))
            if size <= 0 { return .failure(.badMessage("MPUB invalid message(\(index)) body size \(size)")) }
            if size > limits.maxMsgSize { return .failure(.badMessage("MPUB message too big \(size) > \(limits.maxMsgSize)")) }
            guard let message = body.readSlice(length: Int(size)) else {
                return .failure(.badMessage("MPUB failed to read message(\(index)) body"))
            }
            bodies.append(message)
        }
        return .success(bodies)
    }
}

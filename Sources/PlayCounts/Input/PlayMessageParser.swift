import NIOCore

/// Turns an NSQ message body `{"video_id": "<GUID>"}` into a ``VideoID`` or a ``PlayMessageRejection``.
///
/// The body must be one strict JSON object (RFC 8259, UTF-8, nothing but whitespace around it); other keys
/// are allowed and skipped (but still validated). A hand-written byte scanner: no Foundation, no allocation
/// for a well-formed message.
public struct PlayMessageParser: Sendable {
    /// The default size limit: a play message is ~60 bytes, so anything this large is not one.
    public static let defaultMaxBodyBytes = 4096

    /// Bodies longer than this are rejected as ``PlayMessageRejection/Reason/tooLarge`` without being read.
    public var maxBodyBytes: Int

    public init(maxBodyBytes: Int = PlayMessageParser.defaultMaxBodyBytes) {
        self.maxBodyBytes = maxBodyBytes
    }

    /// Parses the readable bytes of `body` (the buffer is not consumed).
    public func parse(_ body: ByteBuffer) -> Result<VideoID, PlayMessageRejection> {
        body.withUnsafeReadableBytes { parse(bytes: $0) }
    }

    /// Parses a byte array.
    public func parse(_ body: [UInt8]) -> Result<VideoID, PlayMessageRejection> {
        body.withUnsafeBytes { parse(bytes: $0) }
    }

    /// Parses raw bytes for the video only (a routed play's origin is checked but dropped).
    public func parse(bytes: UnsafeRawBufferPointer) -> Result<VideoID, PlayMessageRejection> {
        parsePlay(bytes: bytes).map(\.video)
    }

    /// Parses the readable bytes of `body`, with a routed play's origin (see ``RoutedPlayBody``).
    public func parsePlay(_ body: ByteBuffer) -> Result<ParsedPlay, PlayMessageRejection> {
        body.withUnsafeReadableBytes { parsePlay(bytes: $0) }
    }

    /// Parses raw bytes; the core every other overload calls.
    public func parsePlay(bytes: UnsafeRawBufferPointer) -> Result<ParsedPlay, PlayMessageRejection> {
        guard bytes.count <= maxBodyBytes else {
            return .failure(.init(reason: .tooLarge, detail: "body is \(bytes.count) bytes, the limit is \(maxBodyBytes)"))
        }
        if let id = Self.parseCanonical(bytes) { return .success(ParsedPlay(video: id)) }
        if let routed = Self.parseRoutedCanonical(bytes) { return .success(routed) }
        do {
            return .success(try parseObject(bytes))
        } catch {
            return .failure(error)
        }
    }

    /// The fast path for the form producers send, `{"video_id":"<GUID>"}` (optionally with one space after the
    /// colon): recognised by comparing bytes, no scanning. Anything else (or a bad GUID) returns nil and goes
    /// through the full parser, so results and rejections are the same as without this path.
    @inline(__always)
    static func parseCanonical(_ bytes: UnsafeRawBufferPointer) -> VideoID? {
        let guidLength = 36
        let prefixLength: Int
        switch bytes.count {
        case canonicalPrefix.count + guidLength + 2: prefixLength = canonicalPrefix.count
        case spacedPrefix.count + guidLength + 2: prefixLength = spacedPrefix.count
        default: return nil
        }
        let prefix = prefixLength == canonicalPrefix.count ? canonicalPrefix : spacedPrefix
        for index in 0..<prefixLength where bytes[index] != prefix[index] { return nil }
        let end = prefixLength + guidLength
        guard bytes[end] == UInt8(ascii: "\""), bytes[end + 1] == UInt8(ascii: "}") else { return nil }
        return VideoID(utf8: UnsafeRawBufferPointer(rebasing: bytes[prefixLength..<end]))
    }

    /// The fast path for what `route` writes (``RoutedPlayBody``), byte by byte; anything else (or a value out of
    /// range) returns nil and goes through the full parser, which gives the same result or the rejection.
    static func parseRoutedCanonical(_ bytes: UnsafeRawBufferPointer) -> ParsedPlay? {
        var index = 0
        @inline(__always) func literal(_ expected: [UInt8]) -> Bool {
            guard index + expected.count <= bytes.count else { return false }
            for offset in 0..<expected.count where bytes[index + offset] != expected[offset] { return false }
            index += expected.count
            return true
        }
        @inline(__always) func integer() -> Int64? {
            let start = index
            var value: Int64 = 0
            while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") {
                let (times10, overflowed) = value.multipliedReportingOverflow(by: 10)
                let (next, overflowedAgain) = times10.addingReportingOverflow(Int64(bytes[index] - UInt8(ascii: "0")))
                guard !overflowed, !overflowedAgain else { return nil }
                value = next
                index += 1
            }
            // A leading zero (other than "0" itself) is not JSON: leave it to the full parser.
            guard index > start, bytes[start] != UInt8(ascii: "0") else { return nil }
            return value
        }
        guard literal(routedVideoPrefix), index + 36 <= bytes.count,
            let video = VideoID(utf8: UnsafeRawBufferPointer(rebasing: bytes[index..<index + 36]))
        else { return nil }
        index += 36
        guard literal(routedQueuedAtKey), let queuedAt = integer(), literal(routedOriginIDKey), index + 16 <= bytes.count
        else { return nil }
        var high: UInt64 = 0
        var low: UInt64 = 0
        for offset in 0..<16 {
            let byte = bytes[index + offset]
            guard byte >= 0x20, byte < 0x7F, byte != UInt8(ascii: "\""), byte != UInt8(ascii: "\\") else { return nil }
            if offset < 8 { high = high << 8 | UInt64(byte) } else { low = low << 8 | UInt64(byte) }
        }
        index += 16
        guard literal(routedAttemptsKey), let attempts = integer(), attempts <= Int64(UInt16.max),
            index == bytes.count - 1, bytes[index] == UInt8(ascii: "}")
        else { return nil }
        return ParsedPlay(video: video, origin: PlayOrigin(queuedAt: queuedAt, idHigh: high, idLow: low, attempts: Int(attempts)))
    }

    private static let routedVideoPrefix: [UInt8] = Array(#"{"video_id":""#.utf8)
    private static let routedQueuedAtKey: [UInt8] = Array(#"","queued_at":"#.utf8)
    private static let routedOriginIDKey: [UInt8] = Array(#","origin_id":""#.utf8)
    private static let routedAttemptsKey: [UInt8] = Array(#"","origin_attempts":"#.utf8)

    private static let canonicalPrefix: [UInt8] = Array(#"{"video_id":""#.utf8)
    private static let spacedPrefix: [UInt8] = Array(#"{"video_id": ""#.utf8)

    private func parseObject(_ bytes: UnsafeRawBufferPointer) throws(PlayMessageRejection) -> ParsedPlay {
        var scanner = JSONByteScanner(bytes)
        do {
            guard let kind = scanner.peekValueKind() else {
                if scanner.isAtEnd { throw JSONScanError.syntax("empty body", at: 0) }
                throw scanner.unexpected("expected a JSON value")
            }
            guard kind == .object else {
                try scanner.skipValue()
                try scanner.expectEnd()
                throw PlayMessageRejection(reason: .notAnObject, detail: "body is a JSON \(kind), not an object")
            }
            try scanner.expect(UInt8(ascii: "{"), "'{'")
            var found: VideoIDValue = .absent
            var origin = OriginFields()
            if !scanner.consume(UInt8(ascii: "}")) {
                repeat {
                    let key = try scanner.scanString()
                    try scanner.expect(UInt8(ascii: ":"), "':'")
                    if scanner.string(key, equals: "video_id") {
                        if case .absent = found {
                            found = try scanVideoIDValue(&scanner)
                        } else {
                            try scanner.skipValue()
                            found = .duplicate
                        }
                    } else if scanner.string(key, equals: "queued_at") {
                        origin.queuedAt = try Self.scanIntegerField(&scanner, seen: origin.queuedAt, name: "queued_at", &origin.problem)
                    } else if scanner.string(key, equals: "origin_attempts") {
                        origin.attempts = try Self.scanIntegerField(
                            &scanner, seen: origin.attempts, name: "origin_attempts", &origin.problem)
                    } else if scanner.string(key, equals: "origin_id") {
                        try Self.scanOriginID(&scanner, into: &origin)
                    } else {
                        try scanner.skipValue()
                    }
                } while scanner.consume(UInt8(ascii: ","))
                try scanner.expect(UInt8(ascii: "}"), "',' or '}'")
            }
            try scanner.expectEnd()
            switch found {
            case .absent:
                throw PlayMessageRejection(reason: .missingVideoID, detail: "the object has no \"video_id\" key")
            case .duplicate:
                throw PlayMessageRejection(reason: .duplicateVideoID, detail: "\"video_id\" appears more than once")
            case .notString(let kind):
                throw PlayMessageRejection(reason: .videoIDNotString, detail: "\"video_id\" is a JSON \(kind), not a string")
            case .notGUID(let shown):
                throw PlayMessageRejection(reason: .notAGUID, detail: "\"video_id\" \(shown) is not an 8-4-4-4-12 hex GUID")
            case .guid(let id):
                return ParsedPlay(video: id, origin: try origin.resolved())
            }
        } catch let error as JSONScanError {
            // A body that is not UTF-8 is reported as such even if a syntax error came first.
            if let offset = JSONByteScanner.firstInvalidUTF8Offset(bytes) {
                throw PlayMessageRejection(reason: .notUTF8, detail: "invalid UTF-8 at offset \(offset)")
            }
            throw PlayMessageRejection(reason: .notJSON, detail: error.message)
        } catch let rejection as PlayMessageRejection {
            throw rejection
        } catch {
            throw PlayMessageRejection(reason: .notJSON, detail: "\(error)")
        }
    }

    /// The outcome of reading the `video_id` value; problems are reported only once the whole body is known valid JSON.
    private enum VideoIDValue {
        case absent
        case guid(VideoID)
        case notString(JSONByteScanner.ValueKind)
        case notGUID(String)
        case duplicate
    }

    private func scanVideoIDValue(_ scanner: inout JSONByteScanner) throws(JSONScanError) -> VideoIDValue {
        guard let kind = scanner.peekValueKind() else { throw scanner.unexpected("expected a value") }
        guard kind == .string else {
            try scanner.skipValue()
            return .notString(kind)
        }
        let token = try scanner.scanString()
        if !token.hasEscapes {
            let raw = UnsafeRawBufferPointer(rebasing: scanner.bytes[token.start..<token.end])
            if let id = VideoID(utf8: raw) { return .guid(id) }
            return .notGUID(Self.shown(Array(raw)))
        }
        let decoded = scanner.decodedString(token)
        if let id = decoded.withUnsafeBytes({ VideoID(utf8: $0) }) { return .guid(id) }
        return .notGUID(Self.shown(decoded))
    }

    /// The origin keys of a routed play (``RoutedPlayBody``) as read so far: all three or none.
    private struct OriginFields {
        var queuedAt: Int64?
        var attempts: Int64?
        var id: (high: UInt64, low: UInt64)?
        var idSeen = false
        var problem: String?

        func resolved() throws(PlayMessageRejection) -> PlayOrigin? {
            if let problem { throw PlayMessageRejection(reason: .badOrigin, detail: problem) }
            if queuedAt == nil, attempts == nil, !idSeen { return nil }
            guard let queuedAt, let attempts, let id else {
                let missing = [("queued_at", queuedAt == nil), ("origin_id", !idSeen), ("origin_attempts", attempts == nil)]
                    .filter(\.1).map { "\"\($0.0)\"" }.joined(separator: ", ")
                throw PlayMessageRejection(reason: .badOrigin, detail: "a routed play needs \(missing) too")
            }
            guard queuedAt > 0, attempts >= 1, attempts <= Int64(UInt16.max) else {
                throw PlayMessageRejection(
                    reason: .badOrigin, detail: "\"queued_at\" must be positive and \"origin_attempts\" 1 to 65535")
            }
            return PlayOrigin(queuedAt: queuedAt, idHigh: id.high, idLow: id.low, attempts: Int(attempts))
        }
    }

    /// An integer origin field; a repeated key, a non-integer or an overflow is noted as the origin's problem.
    private static func scanIntegerField(
        _ scanner: inout JSONByteScanner, seen: Int64?, name: String, _ problem: inout String?
    ) throws(JSONScanError) -> Int64? {
        guard scanner.peekValueKind() == .number else {
            try scanner.skipValue()
            problem = problem ?? "\"\(name)\" is not an integer"
            return seen
        }
        let token = try scanner.scanNumber()
        guard seen == nil else {
            problem = problem ?? "\"\(name)\" appears more than once"
            return seen
        }
        guard let value = scanner.integerValue(token) else {
            problem = problem ?? "\"\(name)\" is not an integer that fits in 64 bits"
            return nil
        }
        return value
    }

    /// The original message id: a string of exactly 16 bytes.
    private static func scanOriginID(_ scanner: inout JSONByteScanner, into origin: inout OriginFields) throws(JSONScanError) {
        guard scanner.peekValueKind() == .string else {
            try scanner.skipValue()
            origin.problem = origin.problem ?? "\"origin_id\" is not a string"
            return
        }
        let token = try scanner.scanString()
        guard !origin.idSeen else {
            origin.problem = origin.problem ?? "\"origin_id\" appears more than once"
            return
        }
        origin.idSeen = true
        let bytes = token.hasEscapes
            ? scanner.decodedString(token) : Array(UnsafeRawBufferPointer(rebasing: scanner.bytes[token.start..<token.end]))
        guard bytes.count == 16 else {
            origin.problem = origin.problem ?? "\"origin_id\" is \(bytes.count) bytes, not 16"
            return
        }
        var high: UInt64 = 0
        var low: UInt64 = 0
        for byte in bytes[0..<8] { high = high << 8 | UInt64(byte) }
        for byte in bytes[8..<16] { low = low << 8 | UInt64(byte) }
        origin.id = (high, low)
    }

    /// A quoted, length-capped rendering of a bad value for error messages.
    private static func shown(_ bytes: [UInt8]) -> String {
        let text = String(decoding: bytes.prefix(48), as: UTF8.self)
        return "\"\(text)\(bytes.count > 48 ? "…" : "")\""
    }
}

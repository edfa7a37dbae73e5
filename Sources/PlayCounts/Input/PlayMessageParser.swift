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

    /// Parses raw bytes; the core every other overload calls.
    public func parse(bytes: UnsafeRawBufferPointer) -> Result<VideoID, PlayMessageRejection> {
        guard bytes.count <= maxBodyBytes else {
            return .failure(.init(reason: .tooLarge, detail: "body is \(bytes.count) bytes, the limit is \(maxBodyBytes)"))
        }
        if let id = Self.parseCanonical(bytes) { return .success(id) }
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

    private static let canonicalPrefix: [UInt8] = Array(#"{"video_id":""#.utf8)
    private static let spacedPrefix: [UInt8] = Array(#"{"video_id": ""#.utf8)

    private func parseObject(_ bytes: UnsafeRawBufferPointer) throws(PlayMessageRejection) -> VideoID {
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
                return id
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

    /// A quoted, length-capped rendering of a bad value for error messages.
    private static func shown(_ bytes: [UInt8]) -> String {
        let text = String(decoding: bytes.prefix(48), as: UTF8.self)
        return "\"\(text)\(bytes.count > 48 ? "…" : "")\""
    }
}

import Foundation
import NIOCore
import NSQ
import PlayCounts

/// The JSON body published to the dead-letter topic for a message that was not counted, e.g.
/// `{"attempts":1,"body_base64":"…","body_bytes":3,"body_truncated":false,"detail":"…","message_id":"…",
/// "reason":"not_json","timestamp":…}`.
///
/// The original body is kept as base64 up to `maxBodyBytes`: base64 grows it by a third, so a body near nsqd's
/// max-msg-size (1 MiB by default) would not fit in a dead letter whole. `body_bytes` gives its full length.
struct DeadLetter: Encodable, Sendable {
    /// Bytes of the original body kept in `body_base64`.
    static let maxBodyBytes = 64 * 1024
    /// `reason` of a message the consumer gave up on after too many attempts.
    static let maxAttemptsReason = "max_attempts"

    let reason: String
    let detail: String
    let messageID: String
    let attempts: Int
    /// The NSQ queue timestamp (nanoseconds since the epoch).
    let timestamp: Int64
    let bodyBytes: Int
    let bodyBase64: String
    let bodyTruncated: Bool

    init(message: NSQMessage, reason: String, detail: String) {
        self.reason = reason
        self.detail = detail
        self.messageID = message.id.description
        self.attempts = Int(message.attempts)
        self.timestamp = message.timestamp
        self.bodyBytes = message.body.readableBytes
        let kept = message.body.getBytes(at: message.body.readerIndex, length: min(message.body.readableBytes, Self.maxBodyBytes)) ?? []
        self.bodyBase64 = Data(kept).base64EncodedString()
        self.bodyTruncated = kept.count < message.body.readableBytes
    }

    init(message: NSQMessage, rejection: PlayMessageRejection) {
        self.init(message: message, reason: rejection.reason.rawValue, detail: rejection.detail)
    }

    enum CodingKeys: String, CodingKey {
        case reason, detail, attempts, timestamp
        case messageID = "message_id"
        case bodyBytes = "body_bytes"
        case bodyBase64 = "body_base64"
        case bodyTruncated = "body_truncated"
    }

    func encoded() -> ByteBuffer {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding strings and integers cannot fail; an empty object is the safe fallback regardless.
        let data = (try? encoder.encode(self)) ?? Data("{}".utf8)
        return ByteBuffer(bytes: data)
    }
}

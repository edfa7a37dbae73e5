/// Why a play message was refused, with a human explanation (which offset, what was found).
public struct PlayMessageRejection: Error, Sendable, Hashable, CustomStringConvertible {
    /// The class of problem; stable, so stats can count rejections per reason.
    public enum Reason: String, Sendable, Hashable, CaseIterable {
        case tooLarge = "too_large"
        case notUTF8 = "not_utf8"
        case notJSON = "not_json"
        case notAnObject = "not_an_object"
        case missingVideoID = "missing_video_id"
        case videoIDNotString = "video_id_not_string"
        case notAGUID = "not_a_guid"
        /// `video_id` appears more than once: parsers disagree on which wins, so the message is ambiguous.
        case duplicateVideoID = "duplicate_video_id"
        /// A routed play's origin (`queued_at`, `origin_id`, `origin_attempts`) is incomplete or malformed.
        case badOrigin = "bad_origin"
    }

    public var reason: Reason
    public var detail: String

    public init(reason: Reason, detail: String) {
        self.reason = reason
        self.detail = detail
    }

    public var description: String { "\(reason.rawValue): \(detail)" }
}

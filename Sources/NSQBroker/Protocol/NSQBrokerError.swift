/// An error nsqd reports to a client in a type-1 frame, with nsqd's code and exact text.
///
/// Fatal errors are followed by the server closing the connection; the non-fatal ones
/// (`E_FIN_FAILED`, `E_REQ_FAILED`, `E_TOUCH_FAILED`) keep it open.
struct NSQBrokerError: Error, Equatable, Sendable {
    /// The `E_*` code, first word of the frame.
    var code: String
    /// The description after the code, as raw bytes (it may quote arbitrary client bytes).
    var description: [UInt8]
    /// Whether the connection is closed after the error is sent.
    var isFatal: Bool

    init(code: String, description: [UInt8], isFatal: Bool = true) {
        self.code = code
        self.description = description
        self.isFatal = isFatal
    }

    init(code: String, _ description: String, isFatal: Bool = true) {
        self.init(code: code, description: Array(description.utf8), isFatal: isFatal)
    }

    /// The frame payload: `CODE DESCRIPTION`, or the bare code when there is no description.
    var frameBytes: [UInt8] {
        if description.isEmpty { return Array(code.utf8) }
        return Array(code.utf8) + [UInt8(ascii: " ")] + description
    }

    /// Sent (then the connection closed) when the 4-byte magic is not `"  V2"`.
    static let badProtocol = NSQBrokerError(code: "E_BAD_PROTOCOL", description: [])

    static func invalid(_ text: String) -> NSQBrokerError { .init(code: "E_INVALID", text) }
    static func invalid(_ parts: [UInt8]...) -> NSQBrokerError {
        .init(code: "E_INVALID", description: parts.flatMap { $0 })
    }
    static func badTopic(_ command: String, _ name: [UInt8]) -> NSQBrokerError {
        .init(code: "E_BAD_TOPIC", description: Array("\(command) topic name ".utf8) + GoFormat.quote(name) + Array(" is not valid".utf8))
    }
    static func badChannel(_ command: String, _ name: [UInt8]) -> NSQBrokerError {
        .init(code: "E_BAD_CHANNEL", description: Array("\(command) channel name ".utf8) + GoFormat.quote(name) + Array(" is not valid".utf8))
    }
    static func badMessage(_ text: String) -> NSQBrokerError { .init(code: "E_BAD_MESSAGE", text) }
    static func badBody(_ text: String) -> NSQBrokerError { .init(code: "E_BAD_BODY", text) }
}

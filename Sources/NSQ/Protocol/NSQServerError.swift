import NIOCore

/// An error frame from nsqd: a code such as `E_INVALID` and its text.
public struct NSQServerError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The code, e.g. `E_BAD_TOPIC`.
    public var code: String
    /// The rest of the line after the code (may be empty).
    public var message: String

    public init(code: String, message: String) {
        self.code = code
        self.message = message
    }

    /// Splits an error frame body at its first space.
    public init(frameBody: ByteBuffer) {
        let text = String(buffer: frameBody)
        if let space = text.firstIndex(of: " ") {
            self.init(code: String(text[..<space]), message: String(text[text.index(after: space)...]))
        } else {
            self.init(code: text, message: "")
        }
    }

    /// The only errors after which nsqd keeps the connection open.
    public var isFatal: Bool {
        switch code {
        case "E_FIN_FAILED", "E_REQ_FAILED", "E_TOUCH_FAILED": return false
        default: return true
        }
    }

    public var description: String { message.isEmpty ? code : "\(code) \(message)" }
}

/// Errors the client raises itself (not sent by the server).
public struct NSQClientError: Error, Sendable, Hashable, CustomStringConvertible {
    private enum Code: Hashable, Sendable {
        case frameTooLarge(Int)
        case invalidFrameType(Int32)
        case truncatedMessage
        case unexpectedResponse(String)
        case connectionClosed
        case invalidName(String)
        case emptyBody
        case invalidConfiguration(String)
        case lookupFailed(String)
        case stopped
        case idleTimeout
    }

    private let code: Code
    private init(_ code: Code) { self.code = code }

    /// A frame announced a size beyond the decoder's limit (or below the minimum of 4).
    public static func frameTooLarge(_ size: Int) -> Self { .init(.frameTooLarge(size)) }
    /// A frame type other than 0, 1 and 2.
    public static func invalidFrameType(_ type: Int32) -> Self { .init(.invalidFrameType(type)) }
    /// A message frame too short for timestamp, attempts and id.
    public static let truncatedMessage = Self(.truncatedMessage)
    /// A response that does not fit the connection's state.
    public static func unexpectedResponse(_ text: String) -> Self { .init(.unexpectedResponse(text)) }
    /// The connection closed before the command was answered.
    public static let connectionClosed = Self(.connectionClosed)
    /// A topic or channel name nsqd would refuse.
    public static func invalidName(_ name: String) -> Self { .init(.invalidName(name)) }
    /// nsqd refuses empty message bodies.
    public static let emptyBody = Self(.emptyBody)
    /// The configuration cannot work (explained in the text).
    public static func invalidConfiguration(_ why: String) -> Self { .init(.invalidConfiguration(why)) }
    /// An nsqlookupd query failed.
    public static func lookupFailed(_ why: String) -> Self { .init(.lookupFailed(why)) }
    /// The consumer or producer was stopped.
    public static let stopped = Self(.stopped)
    /// Nothing, not even a heartbeat, arrived for two heartbeat intervals.
    public static let idleTimeout = Self(.idleTimeout)

    public var description: String {
        switch code {
        case .frameTooLarge(let size): return "frame size \(size) outside the allowed range"
        case .invalidFrameType(let type): return "invalid frame type \(type)"
        case .truncatedMessage: return "message frame too short"
        case .unexpectedResponse(let text): return "unexpected response \(text)"
        case .connectionClosed: return "connection closed"
        case .invalidName(let name): return "invalid topic or channel name \"\(name)\""
        case .emptyBody: return "message body is empty"
        case .invalidConfiguration(let why): return "invalid configuration: \(why)"
        case .lookupFailed(let why): return "lookup failed: \(why)"
        case .stopped: return "stopped"
        case .idleTimeout: return "nothing received for two heartbeat intervals"
        }
    }
}

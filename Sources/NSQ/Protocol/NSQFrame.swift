import NIOCore

/// One frame the server sends: `uint32 size | int32 type | data`.
public enum NSQFrame: Sendable, Equatable {
    /// Type 0: `OK`, `CLOSE_WAIT`, `_heartbeat_`, or the IDENTIFY JSON.
    case response(ByteBuffer)
    /// Type 1: an error such as `E_FIN_FAILED …`.
    case error(NSQServerError)
    /// Type 2: a message.
    case message(NSQMessage)
}

extension NSQFrame {
    /// True for the heartbeat response the server sends every heartbeat interval.
    var isHeartbeat: Bool {
        if case .response(let body) = self {
            return body.readableBytesView.elementsEqual(NSQProtocol.heartbeat.utf8)
        }
        return false
    }
}

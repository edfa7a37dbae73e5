/// The protocol of one producer connection: commands are answered in order, one frame each.
///
/// The handler keeps a queue of promises in step with `outstanding`; this value decides which
/// one a frame settles. Heartbeats are answered with NOP and settle nothing.
struct ProducerConnectionStateMachine {
    enum State: Equatable { case active, closed }

    enum Action: Equatable {
        case none
        case write(NSQCommand)
        /// Write the command and remember its promise.
        case send(NSQCommand)
        /// Fail the request at once (connection closed).
        case failRequest(NSQClientError)
        case succeedNext
        case failNext(NSQServerError)
        /// Fail the next request, then the connection closes (nsqd closes after a fatal error).
        case failNextAndClose(NSQServerError)
        case closeChannel(NSQClientError)
        case failAll(NSQClientError)
    }

    private(set) var state: State = .active
    private(set) var outstanding = 0

    mutating func request(_ command: NSQCommand) -> Action {
        guard state == .active else { return .failRequest(.connectionClosed) }
        outstanding += 1
        return .send(command)
    }

    mutating func frameReceived(_ frame: NSQFrame) -> Action {
        guard state == .active else { return .none }
        if frame.isHeartbeat { return .write(.nop) }
        switch frame {
        case .response(let body):
            guard outstanding > 0 else {
                state = .closed
                return .closeChannel(.unexpectedResponse(String(buffer: body)))
            }
            outstanding -= 1
            return .succeedNext
        case .error(let error):
            guard outstanding > 0 else {
                state = .closed
                return .closeChannel(.unexpectedResponse(error.description))
            }
            outstanding -= 1
            if error.isFatal {
                state = .closed
                return .failNextAndClose(error)
            }
            return .failNext(error)
        case .message:
            state = .closed
            return .closeChannel(.unexpectedResponse("message on a producer connection"))
        }
    }

    mutating func channelInactive() -> Action {
        state = .closed
        outstanding = 0
        return .failAll(.connectionClosed)
    }
}

import DequeModule
import NIOCore

/// A request failed before any byte of it was written (the connection was already closing).
struct ProducerRequestNotSent: Error {}

/// A command and the promise its answer settles.
struct ProducerRequest {
    let command: NSQCommand
    let promise: EventLoopPromise<Void>?
}

/// The thin handler of a producer connection: performs ``ProducerConnectionStateMachine`` actions.
final class ProducerChannelHandler: ChannelDuplexHandler {
    typealias InboundIn = NSQFrame
    typealias OutboundIn = ProducerRequest
    typealias OutboundOut = ByteBuffer

    private var stateMachine = ProducerConnectionStateMachine()
    private var promises = Deque<EventLoopPromise<Void>?>()

    func channelActive(context: ChannelHandlerContext) {
        var buffer = context.channel.allocator.buffer(capacity: 4)
        NSQCommand.magic.encode(into: &buffer)
        context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
        context.fireChannelActive()
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = unwrapOutboundIn(data)
        switch stateMachine.request(request.command) {
        case .send(let command):
            var buffer = context.channel.allocator.buffer(capacity: 64)
            command.encode(into: &buffer)
            promises.append(request.promise)
            context.write(wrapOutboundOut(buffer), promise: promise)
        case .failRequest:
            // Never written: the producer may safely send it again on a new connection.
            request.promise?.fail(ProducerRequestNotSent())
            promise?.fail(ProducerRequestNotSent())
        default:
            promise?.succeed()
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch stateMachine.frameReceived(unwrapInboundIn(data)) {
        case .write(let command):
            var buffer = context.channel.allocator.buffer(capacity: 8)
            command.encode(into: &buffer)
            context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
        case .succeedNext:
            promises.popFirst()??.succeed()
        case .failNext(let error):
            promises.popFirst()??.fail(error)
        case .failNextAndClose(let error):
            promises.popFirst()??.fail(error)
            context.close(promise: nil)
        case .closeChannel:
            context.close(promise: nil)
        default:
            break
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if case .failAll(let error) = stateMachine.channelInactive() {
            while let promise = promises.popFirst() { promise?.fail(error) }
        }
        context.fireChannelInactive()
    }
}

import NIOCore
import NIOHTTP1

import PlayCounts
/// One request handed to the channel, with the promise its answer completes.
struct WebhookRequest: Sendable {
    var head: HTTPRequestHead
    var body: ByteBuffer
    var response: EventLoopPromise<WebhookResponse>
}

/// The parts of an answer the client needs.
struct WebhookResponse: Sendable {
    var status: HTTPResponseStatus
    var keepAlive: Bool
    /// The start of the body (capped), for error messages.
    var bodyExcerpt: String
}

/// Why the channel failed a pending request before its answer was complete.
struct WebhookConnectionLost: Error, Sendable {
    /// Whether any part of the answer had arrived (then the request was surely processed).
    var answerStarted: Bool
}

/// Sends one request at a time and completes its promise with the answer. It sits after NIOHTTP1's client
/// codec; informational (1xx) answers are skipped, unsolicited ones close the connection.
final class WebhookChannelHandler: ChannelDuplexHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundIn = WebhookRequest
    typealias OutboundOut = HTTPClientRequestPart

    private static let bodyExcerptLimit = 512

    private var pending: EventLoopPromise<WebhookResponse>?
    private var head: HTTPResponseHead?
    private var body: [UInt8] = []

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = unwrapOutboundIn(data)
        guard pending == nil else {
            let busy = ChannelError.inappropriateOperationForState
            request.response.fail(busy)
            promise?.fail(busy)
            return
        }
        pending = request.response
        head = nil
        body.removeAll(keepingCapacity: true)
        context.write(wrapOutboundOut(.head(request.head)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(request.body))), promise: nil)
        context.write(wrapOutboundOut(.end(nil)), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let responseHead):
            guard pending != nil else {
                context.close(promise: nil)
                return
            }
            if responseHead.status.code >= 200 || responseHead.status.code < 100 { head = responseHead }
        case .body(var chunk):
            let room = Self.bodyExcerptLimit - body.count
            if room > 0, let bytes = chunk.readBytes(length: min(room, chunk.readableBytes)) {
                body.append(contentsOf: bytes)
            }
        case .end:
            guard let responseHead = head, let promise = pending else { return }  // end of a 1xx answer
            pending = nil
            head = nil
            let excerpt = String(decoding: body, as: UTF8.self)
            body.removeAll(keepingCapacity: true)
            promise.succeed(WebhookResponse(status: responseHead.status, keepAlive: responseHead.isKeepAlive, bodyExcerpt: excerpt))
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        failPending(WebhookConnectionLost(answerStarted: head != nil))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        failPending(error)
        context.close(promise: nil)
    }

    private func failPending(_ error: any Error) {
        if let promise = pending {
            pending = nil
            promise.fail(error)
        }
    }
}

import NIOCore

/// Decodes server frames (`uint32 size | int32 type | data`) into ``NSQFrame``s.
///
/// A size below 4 or above `maximumFrameSize` is an error before anything is allocated,
/// so random bytes on the socket can never make the client reserve gigabytes.
public struct NSQFrameDecoder: ByteToMessageDecoder, Sendable {
    public typealias InboundOut = NSQFrame

    /// nsqd's default `--max-msg-size` is 1 MiB; IDENTIFY replies and errors are small.
    public static let defaultMaximumFrameSize = 16 * 1024 * 1024

    public let maximumFrameSize: Int

    public init(maximumFrameSize: Int = NSQFrameDecoder.defaultMaximumFrameSize) {
        self.maximumFrameSize = maximumFrameSize
    }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let frame = try Self.decodeFrame(from: &buffer, maximumFrameSize: maximumFrameSize) else {
            return .needMoreData
        }
        context.fireChannelRead(Self.wrapInboundOut(frame))
        return .continue
    }

    public mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        try decode(context: context, buffer: &buffer)
    }

    /// Takes one whole frame off the front of `buffer`, or nothing when it is not all there yet.
    public static func decodeFrame(from buffer: inout ByteBuffer, maximumFrameSize: Int = defaultMaximumFrameSize) throws -> NSQFrame? {
        guard let size = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self) else { return nil }
        guard size >= 4, Int(size) <= maximumFrameSize else { throw NSQClientError.frameTooLarge(Int(size)) }
        guard buffer.readableBytes >= 4 + Int(size) else { return nil }
        buffer.moveReaderIndex(forwardBy: 4)
        // Both reads succeed: the size check above guarantees the bytes are there.
        guard let rawType = buffer.readInteger(as: Int32.self),
              var data = buffer.readSlice(length: Int(size) - 4) else { return nil }
        switch NSQFrameType(rawValue: rawType) {
        case .response:
            return .response(data)
        case .error:
            return .error(NSQServerError(frameBody: data))
        case .message:
            guard let timestamp = data.readInteger(as: Int64.self),
                  let attempts = data.readInteger(as: UInt16.self),
                  let id = NSQMessageID(buffer: &data) else {
                throw NSQClientError.truncatedMessage
            }
            return .message(NSQMessage(timestamp: timestamp, attempts: attempts, id: id, body: data))
        case nil:
            throw NSQClientError.invalidFrameType(rawType)
        }
    }
}

import NIOCore

/// nsqd's output path to one client, without the socket: a Go `bufio.Writer` of `output_buffer_size` bytes in
/// front of the connection, fed by `SendFramedResponse`, which makes three writes per frame (the size, the
/// frame type, the data).
///
/// What this decides is how many socket writes a client costs, which is what shapes a consumer's throughput:
/// - unbuffered (`output_buffer_size` -1, a 1-byte buffer in nsqd) passes each of the three writes straight to
///   the socket: three writes per message;
/// - buffered, frames collect until one no longer fits, then the full buffer goes out in one write (a frame
///   larger than an empty buffer is written directly), or until the connection flushes the rest: after a
///   response or an error, when the client is no longer ready, or at the output buffer timer's tick.
///
/// Each returned ``ByteBuffer`` is one write, to be flushed on its own.
struct ClientOutput {
    /// The buffer's size in bytes; 1 means unbuffered.
    let capacity: Int
    private var buffered: ByteBuffer
    private let allocator: ByteBufferAllocator

    init(capacity: Int, allocator: ByteBufferAllocator) {
        self.capacity = max(1, capacity)
        self.allocator = allocator
        buffered = allocator.buffer(capacity: self.capacity)
    }

    /// Bytes waiting in the buffer for a flush.
    var bufferedBytes: Int { buffered.readableBytes }

    /// One frame: `uint32 size | int32 type | data`, written the way nsqd writes it; returns the socket writes
    /// made on the way (none while everything fits in the buffer).
    mutating func writeFrame(type: Int32, data: ByteBuffer) -> [ByteBuffer] {
        var writes: [ByteBuffer] = []
        var size = allocator.buffer(capacity: 4)
        size.writeInteger(UInt32(4 + data.readableBytes))
        var frameType = allocator.buffer(capacity: 4)
        frameType.writeInteger(type)
        write(size, into: &writes)
        write(frameType, into: &writes)
        write(data, into: &writes)
        return writes
    }

    /// `bufio.Writer.Flush`: what is buffered, as one write; nil when nothing is.
    mutating func flush() -> ByteBuffer? {
        guard buffered.readableBytes > 0 else { return nil }
        defer { buffered = allocator.buffer(capacity: capacity) }
        return buffered
    }

    /// `bufio.Writer.Write`: fill the buffer, writing it out whenever the rest of `part` does not fit; a part
    /// that does not fit an empty buffer is written directly.
    private mutating func write(_ part: ByteBuffer, into writes: inout [ByteBuffer]) {
        var part = part
        while part.readableBytes > capacity - buffered.readableBytes {
            if buffered.readableBytes == 0 {
                writes.append(part)
                return
            }
            let fits = capacity - buffered.readableBytes
            var slice = part.readSlice(length: fits)!
            buffered.writeBuffer(&slice)
            writes.append(buffered)
            buffered = allocator.buffer(capacity: capacity)
        }
        buffered.writeBuffer(&part)
    }
}

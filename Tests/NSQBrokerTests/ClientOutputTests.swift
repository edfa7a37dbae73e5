import NIOCore
import Testing
@testable import NSQBroker

/// The socket writes nsqd makes for a client, by output buffer size (its `bufio.Writer` fed by
/// `SendFramedResponse`), without sockets: what a benchmark on the embedded broker pays is what nsqd pays.
@Suite("Client output")
struct ClientOutputTests {
    static func data(_ count: Int) -> ByteBuffer { ByteBuffer(repeating: 0xAB, count: count) }

    /// The bytes of one frame as they reach the client, however they were split into writes.
    static func frame(type: Int32, data: ByteBuffer) -> [UInt8] {
        var buffer = ByteBuffer()
        buffer.writeInteger(UInt32(4 + data.readableBytes))
        buffer.writeInteger(type)
        buffer.writeImmutableBuffer(data)
        return Array(buffer.readableBytesView)
    }

    @Test func unbufferedMakesThreeWritesPerFrame() {
        var output = ClientOutput(capacity: 1, allocator: ByteBufferAllocator())
        let writes = output.writeFrame(type: 2, data: Self.data(50))
        #expect(writes.map(\.readableBytes) == [4, 4, 50])
        #expect(writes.flatMap { Array($0.readableBytesView) } == Self.frame(type: 2, data: Self.data(50)))
        #expect(output.bufferedBytes == 0)
        #expect(output.flush() == nil)
    }

    @Test func bufferedFramesWaitUntilTheBufferIsFull() {
        var output = ClientOutput(capacity: 100, allocator: ByteBufferAllocator())
        #expect(output.writeFrame(type: 2, data: Self.data(40)).isEmpty)  // 48 bytes buffered
        // The next 48 bytes fit too (96 ≤ 100); the third frame fills the buffer, which goes out whole.
        #expect(output.writeFrame(type: 2, data: Self.data(40)).isEmpty)
        let writes = output.writeFrame(type: 2, data: Self.data(40))
        #expect(writes.map(\.readableBytes) == [100])
        #expect(output.bufferedBytes == 3 * 48 - 100)
        let rest = output.flush()
        #expect(rest?.readableBytes == 44)
        let sent = writes.flatMap { Array($0.readableBytesView) } + Array(rest!.readableBytesView)
        #expect(sent == Array(repeating: Self.frame(type: 2, data: Self.data(40)), count: 3).flatMap { $0 })
        #expect(output.flush() == nil)
    }

    @Test func dataLargerThanAnEmptyBufferIsWrittenDirectly() {
        var output = ClientOutput(capacity: 64, allocator: ByteBufferAllocator())
        // Size and type are buffered; the 200-byte data does not fit, so the buffer goes out filled with its
        // first 56 bytes, and the remaining 144 bytes are more than the empty buffer holds: one direct write.
        let writes = output.writeFrame(type: 2, data: Self.data(200))
        #expect(writes.map(\.readableBytes) == [64, 144])
        #expect(output.bufferedBytes == 0)
        #expect(writes.flatMap { Array($0.readableBytesView) } == Self.frame(type: 2, data: Self.data(200)))
    }
}

import NIOCore
import NIOEmbedded
import Testing
@testable import NSQ

@Suite struct FrameDecoderTests {
    /// Every golden frame of the transcript's main session, back to back.
    static let stream: [UInt8] = Golden.identifyResponse + Golden.ok + Golden.message1 + Golden.message2
        + Golden.message3 + Golden.message2Redelivered + Golden.heartbeat + Golden.finFailed + Golden.closeWait

    static func decodeAll(_ bytes: [UInt8]) throws -> [NSQFrame] {
        var buffer = ByteBuffer(bytes: bytes)
        var frames: [NSQFrame] = []
        while let frame = try NSQFrameDecoder.decodeFrame(from: &buffer) { frames.append(frame) }
        #expect(buffer.readableBytes == 0)
        return frames
    }

    /// Feeds `bytes` through a real ByteToMessageHandler in the given chunk sizes.
    static func decodeThroughChannel(_ bytes: [UInt8], chunks: [Int]) throws -> [NSQFrame] {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(NSQFrameDecoder()))
        defer { _ = try? channel.finish() }
        var offset = 0
        for size in chunks where offset < bytes.count {
            let end = min(bytes.count, offset + size)
            try channel.writeInbound(ByteBuffer(bytes: bytes[offset..<end]))
            offset = end
        }
        if offset < bytes.count { try channel.writeInbound(ByteBuffer(bytes: bytes[offset...])) }
        var frames: [NSQFrame] = []
        while let frame = try channel.readInbound(as: NSQFrame.self) { frames.append(frame) }
        return frames
    }

    @Test func decodesGoldenFrames() throws {
        let frames = try Self.decodeAll(Self.stream)
        #expect(frames.count == 9)
        guard case .response(let identify) = frames[0] else { Issue.record("not a response"); return }
        #expect(try NSQIdentifyResponse(frameBody: identify).maxRdyCount == 2500)
        #expect(frames[1] == .response(ByteBuffer(string: "OK")))
        guard case .message(let message) = frames[2] else { Issue.record("not a message"); return }
        #expect(message.timestamp == 1_795_934_289_943_965_439)
        #expect(message.attempts == 1)
        #expect(message.id.description == "18ac9fa22c269000")
        #expect(String(buffer: message.body) == #"{"video_id":"0f8fad5b-d9cb-469f-a165-70867728950e"}"#)
        guard case .message(let notJSON) = frames[4] else { Issue.record("not a message"); return }
        #expect(String(buffer: notJSON.body) == "not json")
        #expect(notJSON.id.description == "18ac9fa22c669001")
        guard case .message(let again) = frames[5] else { Issue.record("not a message"); return }
        #expect(again.attempts == 2)
        #expect(again.timestamp == 1_795_934_289_944_588_729)
        #expect(frames[6].isHeartbeat)
        #expect(frames[7] == .error(NSQServerError(code: "E_FIN_FAILED", message: "FIN 0000000000000000 failed ID not in flight")))
        #expect(frames[8] == .response(ByteBuffer(string: "CLOSE_WAIT")))
    }

    @Test func byteAtATimeMatchesWhole() throws {
        let whole = try Self.decodeAll(Self.stream)
        let split = try Self.decodeThroughChannel(Self.stream, chunks: Array(repeating: 1, count: Self.stream.count))
        #expect(split == whole)
    }

    @Test func batchesAndRandomSplitsMatchWhole() throws {
        let whole = try Self.decodeAll(Self.stream)
        #expect(try Self.decodeThroughChannel(Self.stream, chunks: [Self.stream.count]) == whole)
        for batch in [2, 3, 7, 10, 81, 100] {
            #expect(try Self.decodeThroughChannel(Self.stream, chunks: Array(repeating: batch, count: Self.stream.count)) == whole)
        }
        var rng = SplitMix64(seed: 42)
        for _ in 0..<200 {
            var chunks: [Int] = []
            var total = 0
            while total < Self.stream.count {
                let size = Int(rng.next() % 40) + 1
                chunks.append(size)
                total += size
            }
            chunks.shuffle(using: &rng)
            #expect(try Self.decodeThroughChannel(Self.stream, chunks: chunks) == whole)
        }
    }

    @Test func oversizedFrameIsAnErrorNotAnAllocation() {
        var huge = ByteBuffer(bytes: [0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0])
        #expect(throws: NSQClientError.frameTooLarge(Int(UInt32.max))) { try NSQFrameDecoder.decodeFrame(from: &huge) }
        var tooSmall = ByteBuffer(bytes: [0, 0, 0, 2, 0, 0])
        #expect(throws: NSQClientError.frameTooLarge(2)) { try NSQFrameDecoder.decodeFrame(from: &tooSmall) }
        var limited = ByteBuffer(bytes: Golden.message1)
        #expect(throws: NSQClientError.frameTooLarge(81)) { try NSQFrameDecoder.decodeFrame(from: &limited, maximumFrameSize: 80) }
    }

    @Test func badTypeAndTruncatedMessageAreErrors() {
        var badType = ByteBuffer(bytes: [0, 0, 0, 6, 0, 0, 0, 9, 0x4f, 0x4b])
        #expect(throws: NSQClientError.invalidFrameType(9)) { try NSQFrameDecoder.decodeFrame(from: &badType) }
        var truncated = ByteBuffer(bytes: [0, 0, 0, 8, 0, 0, 0, 2, 1, 2, 3, 4])
        #expect(throws: NSQClientError.truncatedMessage) { try NSQFrameDecoder.decodeFrame(from: &truncated) }
    }

    @Test func randomBytesNeverCrash() throws {
        var rng = SplitMix64(seed: 7)
        var decoded = 0
        var failed = 0
        for round in 0..<2000 {
            var bytes = (0..<Int(rng.next() % 300)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            if round % 2 == 0, bytes.count >= 8 {
                // Plausible headers reach the type and message branches more often.
                let size = UInt32(bytes.count - 4)
                bytes[0] = UInt8(size >> 24); bytes[1] = UInt8(truncatingIfNeeded: size >> 16)
                bytes[2] = UInt8(truncatingIfNeeded: size >> 8); bytes[3] = UInt8(truncatingIfNeeded: size)
                bytes[4] = 0; bytes[5] = 0; bytes[6] = 0; bytes[7] = UInt8(rng.next() % 4)
            }
            let channel = EmbeddedChannel(handler: ByteToMessageHandler(NSQFrameDecoder(maximumFrameSize: 1 << 20)))
            do {
                try channel.writeInbound(ByteBuffer(bytes: bytes))
                while try channel.readInbound(as: NSQFrame.self) != nil { decoded += 1 }
            } catch {
                failed += 1
            }
            _ = try? channel.finish()
        }
        // Both outcomes must actually have happened for the test to mean anything.
        #expect(decoded > 0)
        #expect(failed > 0)
    }
}

/// A small seeded generator so failures reproduce.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

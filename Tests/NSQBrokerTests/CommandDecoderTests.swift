import NIOCore
import NIOEmbedded
import NSQ
import Testing
@testable import NSQBroker

/// The protocol V2 command decoder, fed whole, byte by byte, in batches and in random splits
/// (the idea of NIOTestUtils' ByteToMessageDecoderVerifier): the output must not depend on the split.
@Suite("Command decoder")
struct CommandDecoderTests {
    static func pubBytes(_ topic: String, _ body: String) -> [UInt8] {
        var bytes = Array("PUB \(topic)\n".utf8)
        withUnsafeBytes(of: UInt32(body.utf8.count).bigEndian) { bytes += $0 }
        return bytes + Array(body.utf8)
    }

    static func mpubBytes(_ topic: String, _ bodies: [String]) -> [UInt8] {
        var payload: [UInt8] = []
        withUnsafeBytes(of: UInt32(bodies.count).bigEndian) { payload += $0 }
        for body in bodies {
            withUnsafeBytes(of: UInt32(body.utf8.count).bigEndian) { payload += $0 }
            payload += Array(body.utf8)
        }
        var bytes = Array("MPUB \(topic)\n".utf8)
        withUnsafeBytes(of: UInt32(payload.count).bigEndian) { bytes += $0 }
        return bytes + payload
    }

    /// A stream covering every decoder state.
    static let stream: [UInt8] = {
        var bytes = Array("  V2".utf8)
        let identify = #"{"client_id":"x","feature_negotiation":true}"#
        bytes += Array("IDENTIFY\n".utf8)
        withUnsafeBytes(of: UInt32(identify.utf8.count).bigEndian) { bytes += $0 }
        bytes += Array(identify.utf8)
        bytes += pubBytes("plays", "hello")
        bytes += mpubBytes("plays", ["a", "bb", "ccc"])
        bytes += Array("DPUB plays 500\n".utf8) + [0, 0, 0, 2] + Array("dd".utf8)
        bytes += Array("SUB plays ch\r\nRDY 10\nFIN 0123456789abcdef\nREQ 0123456789abcdef 0\nNOP\nCLS\n".utf8)
        return bytes
    }()

    static let expected: [NSQClientInbound] = [
        .accepted,
        .command(.identify(body: ByteBuffer(string: #"{"client_id":"x","feature_negotiation":true}"#))),
        .command(.publish(topic: "plays", body: ByteBuffer(string: "hello"))),
        .command(.multiPublish(topic: "plays", bodies: ["a", "bb", "ccc"].map { ByteBuffer(string: $0) })),
        .command(.deferredPublish(topic: "plays", delayMilliseconds: 500, body: ByteBuffer(string: "dd"))),
        .command(.line([Array("SUB".utf8), Array("plays".utf8), Array("ch".utf8)])),
        .command(.line([Array("RDY".utf8), Array("10".utf8)])),
        .command(.finish(NSQMessageID("0123456789abcdef")!)),
        .command(.line([Array("REQ".utf8), Array("0123456789abcdef".utf8), Array("0".utf8)])),
        .command(.line([Array("NOP".utf8)])),
        .command(.line([Array("CLS".utf8)])),
    ]

    /// Feeds `chunks` one after another, decoding as much as possible after each.
    static func decode(_ chunks: [[UInt8]], limits: NSQCommandDecoder.Limits = .init()) -> [NSQClientInbound] {
        var decoder = NSQCommandDecoder(limits: limits)
        var buffer = ByteBuffer()
        var output: [NSQClientInbound] = []
        for chunk in chunks {
            buffer.writeBytes(chunk)
            while let value = decoder.next(&buffer) { output.append(value) }
            buffer.discardReadBytes()
        }
        return output
    }

    @Test func wholeStream() {
        #expect(Self.decode([Self.stream]) == Self.expected)
    }

    @Test func oneByteAtATime() {
        #expect(Self.decode(Self.stream.map { [$0] }) == Self.expected)
    }

    @Test(arguments: [2, 3, 7, 16, 64])
    func fixedBatches(size: Int) {
        let chunks = stride(from: 0, to: Self.stream.count, by: size).map {
            Array(Self.stream[$0..<min($0 + size, Self.stream.count)])
        }
        #expect(Self.decode(chunks) == Self.expected)
    }

    @Test func randomSplits() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            var chunks: [[UInt8]] = []
            var index = 0
            while index < Self.stream.count {
                let size = Int.random(in: 1...24, using: &generator)
                chunks.append(Array(Self.stream[index..<min(index + size, Self.stream.count)]))
                index += size
            }
            #expect(Self.decode(chunks) == Self.expected)
        }
    }

    @Test func throughEmbeddedChannel() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(NSQCommandDecoder()))
        for byte in Self.stream { try channel.writeInbound(ByteBuffer(bytes: [byte])) }
        var output: [NSQClientInbound] = []
        while let value = try channel.readInbound(as: NSQClientInbound.self) { output.append(value) }
        #expect(output == Self.expected)
        _ = try channel.finish()
    }

    @Test func badMagicIsFatalAndSwallowsTheRest() {
        let output = Self.decode([Array("  V1NOP\n".utf8)])
        #expect(output == [.fatal(.badProtocol)])
    }

    @Test func bodyChecksHappenBeforeTheBody() {
        // nsqd validates the topic before reading the length, and the length before the body.
        #expect(Self.decode([Array("  V2PUB bad!topic\n".utf8)]) == [.accepted, .fatal(.badTopic("PUB", Array("bad!topic".utf8)))])
        #expect(Self.decode([Array("  V2PUB plays\n".utf8) + [0xFF, 0xFF, 0xFF, 0xFF]])
                == [.accepted, .fatal(.badMessage("PUB invalid message body size -1"))])
        #expect(Self.decode([Array("  V2PUB plays\n".utf8) + [0x00, 0x20, 0x00, 0x00]])
                == [.accepted, .fatal(.badMessage("PUB message too big 2097152 > 1048576"))])
        #expect(Self.decode([Array("  V2MPUB plays\n".utf8) + [0, 0, 0, 8, 0, 0, 0, 0]])
                == [.accepted, .fatal(.badBody("MPUB invalid message count 0"))])
        #expect(Self.decode([Array("  V2MPUB plays\n".utf8) + [0, 0, 0, 8, 0, 0, 0, 1, 0, 0, 0, 0]])
                == [.accepted, .fatal(.badMessage("MPUB invalid message(0) body size 0"))])
        #expect(Self.decode([Array("  V2DPUB plays 99999999999\n".utf8)])
                == [.accepted, .fatal(.invalid("DPUB timeout 99999999999 out of range 0-3600000"))])
        #expect(Self.decode([Array("  V2DPUB plays x1\n".utf8)])
                == [.accepted, .fatal(.invalid("DPUB could not parse timeout x1"))])
        #expect(Self.decode([Array("  V2IDENTIFY\n".utf8) + [0, 0x60, 0, 0]])
                == [.accepted, .fatal(.badBody("IDENTIFY body too big 6291456 > 5242880"))])
        #expect(Self.decode([Array("  V2PUB\n".utf8)]) == [.accepted, .fatal(.invalid("PUB insufficient number of parameters"))])
    }

    @Test func identifyAfterSubscribeIsRefusedBeforeItsBody() {
        let output = Self.decode([Array("  V2SUB a b\nIDENTIFY\n".utf8)])
        #expect(output.last == .fatal(.invalid("cannot IDENTIFY in current state")))
    }

    @Test func overlongLineClosesSilently() {
        let output = Self.decode([Array("  V2".utf8) + [UInt8](repeating: UInt8(ascii: "A"), count: 20_000)])
        #expect(output == [.accepted, .closeSilently])
    }

    @Test func quotesNamesLikeGo() {
        #expect(GoFormat.quote(Array("bad!topic".utf8)) == Array(#""bad!topic""#.utf8))
        #expect(GoFormat.quote([0x41, 0x00, 0x22, 0x5C, 0x0A, 0xFF]) == Array(#""A\x00\"\\\n\xff""#.utf8))
        #expect(GoFormat.quote(Array("é".utf8)) == Array("\"é\"".utf8))
    }

    @Test func parsesBase10LikeNsqd() {
        #expect(GoFormat.base10(Array("2500".utf8)) == 2500)
        #expect(GoFormat.base10([]) == 0)
        #expect(GoFormat.base10(Array("-1".utf8)) == nil)
        #expect(GoFormat.base10(Array("1x".utf8)) == nil)
    }
}

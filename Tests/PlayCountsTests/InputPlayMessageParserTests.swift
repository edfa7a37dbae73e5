import NIOCore
import Testing

@testable import PlayCounts
@testable import PlayLoad

@Suite("Play message parser")
struct InputPlayMessageParserTests {
    let parser = PlayMessageParser()
    let guid = "6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b"

    func reason(_ text: String, parser: PlayMessageParser = PlayMessageParser()) -> PlayMessageRejection.Reason? {
        if case .failure(let rejection) = parser.parse(Array(text.utf8)) { return rejection.reason }
        return nil
    }

    func id(_ text: String) -> VideoID? {
        if case .success(let id) = parser.parse(Array(text.utf8)) { return id }
        return nil
    }

    @Test func acceptsTheCanonicalShape() {
        #expect(id(#"{"video_id":"\#(guid)"}"#) == VideoID(guid))
        #expect(id(#"{"video_id":"\#(guid)"}"#)?.description == guid)
    }

    @Test func readsAByteBufferWithoutConsumingIt() throws {
        var buffer = ByteBufferAllocator().buffer(capacity: 64)
        buffer.writeString("xx")
        buffer.moveReaderIndex(forwardBy: 2)  // readable bytes start after a prefix
        buffer.writeString(#"{"video_id": "\#(guid)"}"#)
        let before = buffer.readableBytes
        #expect(try parser.parse(buffer).get() == VideoID(guid))
        #expect(buffer.readableBytes == before)
    }

    @Test(arguments: [
        #"  {"video_id" : "6F1C2A9E-3B4D-4E5F-8A7B-9C0D1E2F3A4B"}  "#,
        "\n\t{\r\n\"video_id\":\"6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b\"\n}\n",
        #"{"other":1,"video_id":"6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b","more":[1,2.5e-3,{"a":null}],"t":true,"f":false}"#,
        #"{"video_id":"6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b","s":"esc \" \\ \/ \b \f \n \r \t \u00e9 \ud83d\ude00 é 😀"}"#,
        #"{"video\u005fid":"6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b"}"#,
        #"{"video_id":"\u0036f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b"}"#,
        #"{"other":1,"other":2,"video_id":"6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b"}"#,
        #"{"n":-0,"m":0.0,"k":1E+9,"j":-12.5e-07,"video_id":"6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b"}"#,
    ])
    func acceptsValidVariants(body: String) {
        #expect(id(body) == VideoID(guid), "\(body)")
    }

    @Test(arguments: [
        ("", PlayMessageRejection.Reason.notJSON),
        ("   ", .notJSON),
        ("{", .notJSON),
        (#"{"video_id":"6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b""#, .notJSON),
        (#"{"video_id":"6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b"} x"#, .notJSON),
        (#"{"video_id":"6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b"}{}"#, .notJSON),
        (#"{'video_id':'6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b'}"#, .notJSON),
        (#"{"video_id":"6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b",}"#, .notJSON),
        (#"{"a":01,"video_id":"6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b"}"#, .notJSON),
        (#"{"a":1.,"video_id":"6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b"}"#, .notJSON),
        (#"{"a":+1,"video_id":"6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b"}"#, .notJSON),
        (#"{"a":NaN,"video_id":"6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b"}"#, .notJSON),
        (#"{"a":tru,"video_id":"6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b"}"#, .notJSON),
        (#"{"a":"\x","video_id":"6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b"}"#, .notJSON),
        (#"{"a":"\ud800","video_id":"6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b"}"#, .notJSON),
        ("{\"a\":\"tab\there\",\"video_id\":\"6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b\"}", .notJSON),
        (#"{"video_id":"6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b"} // comment"#, .notJSON),
        (#"[{"video_id":"6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b"}]"#, .notAnObject),
        (#""6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b""#, .notAnObject),
        ("42", .notAnObject),
        ("null", .notAnObject),
        ("{}", .missingVideoID),
        (#"{"videoid":"6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b"}"#, .missingVideoID),
        (#"{"Video_ID":"6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b"}"#, .missingVideoID),
        (#"{"video_id":null}"#, .videoIDNotString),
        (#"{"video_id":42}"#, .videoIDNotString),
        (#"{"video_id":["6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b"]}"#, .videoIDNotString),
        (#"{"video_id":""}"#, .notAGUID),
        (#"{"video_id":"6f1c2a9e3b4d4e5f8a7b9c0d1e2f3a4b"}"#, .notAGUID),
        (#"{"video_id":"{6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b}"}"#, .notAGUID),
        (#"{"video_id":" 6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b"}"#, .notAGUID),
        (#"{"video_id":"6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4g"}"#, .notAGUID),
        (#"{"video_id":"6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b","video_id":"6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b"}"#, .duplicateVideoID),
        (#"{"video_id":"6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b","video\u005fid":1}"#, .duplicateVideoID),
        // JSON errors anywhere win over a good video_id, and a bad video_id is only judged in valid JSON.
        (#"{"video_id":42,"x":}"#, .notJSON),
    ])
    func rejectsWithTheRightReason(body: String, expected: PlayMessageRejection.Reason) {
        #expect(reason(body) == expected, "\(body)")
    }

    @Test func rejectsInvalidUTF8AsSuch() {
        let prefix = Array(#"{"x":""#.utf8)
        let suffix = Array(#"","video_id":"6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b"}"#.utf8)
        let badSequences: [[UInt8]] = [
            [0xFF], [0xC0, 0xAF], [0xE0, 0x80, 0xAF], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xC3], [0x80],
        ]
        for bad in badSequences {
            let result = parser.parse(prefix + bad + suffix)
            guard case .failure(let rejection) = result else {
                Issue.record("accepted invalid UTF-8 \(bad)")
                continue
            }
            #expect(rejection.reason == .notUTF8, "\(bad): \(rejection)")
        }
        // Invalid UTF-8 outside a string is reported as such too.
        #expect(parser.parse([0xFF, 0xFE] + Array("{}".utf8)).rejection?.reason == .notUTF8)
        // Valid UTF-8 outside a string is merely bad JSON.
        #expect(parser.parse(Array("é{}".utf8)).rejection?.reason == .notJSON)
    }

    @Test func enforcesTheSizeLimit() throws {
        let padded = #"{"pad":"\#(String(repeating: "x", count: 5000))","video_id":"\#(guid)"}"#
        #expect(reason(padded) == .tooLarge)
        #expect(id(#"{"pad":"\#(String(repeating: "x", count: 4000))","video_id":"\#(guid)"}"#) == VideoID(guid))
        let big = PlayMessageParser(maxBodyBytes: 10_000)
        #expect(try big.parse(Array(padded.utf8)).get() == VideoID(guid))
        #expect(reason(#"{"video_id":"\#(guid)"}"#, parser: PlayMessageParser(maxBodyBytes: 10)) == .tooLarge)
    }

    @Test func limitsNestingInsteadOfRecursingWithoutBound() {
        let deep = String(repeating: "[", count: 1000) + String(repeating: "]", count: 1000)
        let body = #"{"x":\#(deep),"video_id":"\#(guid)"}"#
        let result = PlayMessageParser(maxBodyBytes: 1 << 20).parse(Array(body.utf8))
        #expect(result.rejection?.reason == .notJSON)
        #expect(result.rejection?.detail.contains("nesting") == true)
    }

    @Test func explainsRejections() {
        let rejection = parser.parse(Array(#"{"video_id":"nope"}"#.utf8)).rejection
        #expect(rejection?.description == #"not_a_guid: "video_id" "nope" is not an 8-4-4-4-12 hex GUID"#)
        let syntax = parser.parse(Array(#"{"video_id" "x"}"#.utf8)).rejection
        #expect(syntax?.detail == #"expected ':', found '"' at offset 12"#)
    }

    @Test func neverCrashesOnRandomBytes() {
        var generator = SeededRandom(seed: 42)
        let alphabet = Array(#"{}[]":,\ ntrufalse0123456789-+.eEvideo_id"#.utf8) + [0x00, 0x80, 0xC3, 0xA9, 0xFF, 0x0A]
        var accepted = 0
        for round in 0..<20_000 {
            let length = Int(generator.below(64))
            var bytes: [UInt8] = []
            for _ in 0..<length {
                bytes.append(round % 2 == 0 ? UInt8(truncatingIfNeeded: generator.next()) : alphabet[Int(generator.below(UInt64(alphabet.count)))])
            }
            if case .success = parser.parse(bytes) { accepted += 1 }
        }
        #expect(accepted == 0)  // random bytes never spell a valid message with a GUID
    }

    @Test func neverCrashesOnTruncationsOfValidBodies() {
        let body = Array(#"{"a":[1,{"b":"\u00e9\ud83d\ude00"}],"video_id":"\#(guid)","c":-1.5e3}"#.utf8)
        for cut in 0..<body.count {
            #expect(parser.parse(Array(body[0..<cut])).rejection != nil)
        }
        #expect(parser.parse(body).rejection == nil)
    }
}

extension Result where Failure == PlayMessageRejection {
    var rejection: PlayMessageRejection? {
        if case .failure(let rejection) = self { return rejection }
        return nil
    }
}

import Foundation
import Testing

@testable import PlayCounts

/// The parser's byte-compare fast path for `{"video_id":"<GUID>"}` must accept exactly what the full parser
/// accepts for such bodies, and leave every other body to the full parser.
@Suite("Play message parser: canonical fast path")
struct InputCanonicalFastPathTests {
    let guid = "6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b"

    func fastPath(_ text: String) -> VideoID? {
        Array(text.utf8).withUnsafeBytes { PlayMessageParser.parseCanonical($0) }
    }

    @Test func takesTheCanonicalFormsOnly() {
        #expect(fastPath(#"{"video_id":"\#(guid)"}"#) == VideoID(guid))
        #expect(fastPath(#"{"video_id": "\#(guid)"}"#) == VideoID(guid))
        #expect(fastPath(#"{"video_id":"\#(guid.uppercased())"}"#) == VideoID(guid))
        // Valid JSON in other shapes goes to the full parser (and is still accepted there).
        for body in [#"{"video_id" :"\#(guid)"}"#, #" {"video_id":"\#(guid)"}"#, #"{"video_id":"\#(guid)"} "#] {
            #expect(fastPath(body) == nil, "\(body)")
            #expect((try? PlayMessageParser().parse(Array(body.utf8)).get()) == VideoID(guid), "\(body)")
        }
    }

    @Test func leavesBadBodiesOfTheSameLengthToTheFullParser() {
        let cases: [(String, PlayMessageRejection.Reason)] = [
            (#"{"video_id":"6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4g"}"#, .notAGUID),
            (#"{"video_id":"6f1c2a9e+3b4d-4e5f-8a7b-9c0d1e2f3a4b"}"#, .notAGUID),
            (#"{"video_ix":"\#(guid)"}"#, .missingVideoID),
            (#"{"video_id":"\#(guid)"]"#, .notJSON),
            (#"["video_id":"\#(guid)"}"#, .notJSON),
        ]
        for (body, reason) in cases {
            #expect(fastPath(body) == nil, "\(body)")
            guard case .failure(let rejection) = PlayMessageParser().parse(Array(body.utf8)) else {
                Issue.record("accepted \(body)")
                continue
            }
            #expect(rejection.reason == reason, "\(body)")
        }
    }

    /// Every single-byte change of the canonical body: whatever the fast path accepts is valid JSON whose
    /// `video_id` is that GUID.
    @Test func acceptsNoMutationThatIsNotAValidPlay() throws {
        let canonical = Array(#"{"video_id":"\#(guid)"}"#.utf8)
        let replacements: [UInt8] = [0x00, 0x20, 0x22, 0x2D, 0x30, 0x39, 0x41, 0x46, 0x47, 0x5C, 0x61, 0x66, 0x67, 0x7B, 0x7D, 0xFF]
        for index in canonical.indices {
            for byte in replacements where byte != canonical[index] {
                var body = canonical
                body[index] = byte
                guard let id = body.withUnsafeBytes({ PlayMessageParser.parseCanonical($0) }) else { continue }
                let object = try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any]
                let text = object?["video_id"] as? String
                #expect(text.flatMap { VideoID($0) } == id, "mutation at \(index) to \(byte)")
            }
        }
    }
}

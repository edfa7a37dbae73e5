import Foundation
import Testing

@testable import PlayCounts
@testable import PlayLoad

/// Compares the hand-written parser with Foundation's JSONSerialization on random JSON-ish input.
@Suite("Play message parser vs JSONSerialization")
struct InputParserCrossCheckTests {
    struct Generator {
        var random: SeededRandom
        let guids = [
            "6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b", "6F1C2A9E-3B4D-4E5F-8A7B-9C0D1E2F3A4B", "not-a-guid",
            "6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4", "",
        ]

        mutating func pick<T>(_ options: [T]) -> T { options[Int(random.below(UInt64(options.count)))] }
        mutating func chance(_ percent: UInt64) -> Bool { random.below(100) < percent }

        mutating func string() -> String {
            pick([
                #""""#, #""abc""#, #""é😀""#, #""esc \" \\ \/ \b \n \t""#, #""\u00e9\ud83d\ude00""#, #""video_id""#,
                #""\u0041""#,
            ])
        }

        mutating func value(depth: Int) -> String {
            let scalar = [
                "0", "-0", "12", "-3.25", "1e5", "2.5E-3", "true", "false", "null", string(),
                "\"\(pick(guids))\"",
            ]
            if depth > 3 || chance(60) { return pick(scalar) }
            if chance(50) {
                let count = Int(random.below(4))
                return "[" + (0..<count).map { _ in value(depth: depth + 1) }.joined(separator: pick([",", " , "])) + "]"
            }
            return object(depth: depth + 1)
        }

        mutating func object(depth: Int) -> String {
            let count = Int(random.below(4))
            var members: [String] = []
            for _ in 0..<count {
                let key = chance(40) ? #""video_id""# : string()
                members.append(key + pick([":", " : ", ":\n"]) + value(depth: depth))
            }
            if depth == 1 && chance(60) {
                members.insert(#""video_id":"\#(pick(guids))""#, at: Int(random.below(UInt64(members.count + 1))))
            }
            return "{" + members.joined(separator: pick([",", ", "])) + "}"
        }

        /// A document, sometimes damaged by deleting, inserting or replacing one byte.
        mutating func document() -> [UInt8] {
            var bytes = Array((chance(85) ? object(depth: 1) : value(depth: 1)).utf8)
            if chance(30), !bytes.isEmpty {
                let at = Int(random.below(UInt64(bytes.count)))
                let noise = Array(#"{}[]":,\ x0-.e"#.utf8) + [0x0A, 0xFF]
                switch random.below(3) {
                case 0: bytes.remove(at: at)
                case 1: bytes.insert(pick(noise), at: at)
                default: bytes[at] = pick(noise)
                }
            }
            return bytes
        }
    }

    /// What Foundation says the body is, in the parser's terms (nil when the answer is ambiguous: duplicates).
    enum Verdict {
        case success(VideoID)
        case failure(PlayMessageRejection.Reason)
    }

    func foundationVerdict(_ bytes: [UInt8]) -> Verdict {
        guard let object = try? JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed]) else {
            return .failure(String(validating: bytes, as: UTF8.self) == nil ? .notUTF8 : .notJSON)
        }
        guard let dictionary = object as? [String: Any] else { return .failure(.notAnObject) }
        guard let value = dictionary["video_id"] else { return .failure(.missingVideoID) }
        guard let text = value as? String else { return .failure(.videoIDNotString) }
        guard let id = VideoID(text) else { return .failure(.notAGUID) }
        return .success(id)
    }

    /// Removes commas that directly precede `}` or `]` (outside strings).
    static func withoutTrailingCommas(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        var inString = false
        var escaped = false
        var pendingComma: [UInt8]? = nil  // a comma plus the whitespace after it
        for byte in bytes {
            if inString {
                out.append(byte)
                if escaped { escaped = false } else if byte == UInt8(ascii: "\\") { escaped = true } else if byte == UInt8(ascii: "\"") { inString = false }
                continue
            }
            if var pending = pendingComma {
                if [0x20, 0x09, 0x0A, 0x0D].contains(byte) {
                    pending.append(byte)
                    pendingComma = pending
                    continue
                }
                if byte == UInt8(ascii: "}") || byte == UInt8(ascii: "]") {
                    out.append(contentsOf: pending.dropFirst())
                } else {
                    out.append(contentsOf: pending)
                }
                pendingComma = nil
            }
            if byte == UInt8(ascii: ",") {
                pendingComma = [byte]
                continue
            }
            if byte == UInt8(ascii: "\"") { inString = true }
            out.append(byte)
        }
        if let pending = pendingComma { out.append(contentsOf: pending) }
        return out
    }

    @Test func agreesWithFoundation() {
        var generator = Generator(random: SeededRandom(seed: 7))
        let parser = PlayMessageParser()
        var seen: [String: Int] = [:]
        for _ in 0..<5_000 {
            let bytes = generator.document()
            var ours = parser.parse(bytes)
            let theirs = foundationVerdict(bytes)
            if case .failure(let rejection) = ours, rejection.reason == .notJSON, case .failure(let reason) = theirs,
                reason != .notJSON, reason != .notUTF8
            {
                // Foundation tolerates trailing commas (`[1,]`, `{"a":1,}`); we are strict. Compare without them.
                let stripped = Self.withoutTrailingCommas(bytes)
                #expect(stripped != bytes, "Foundation accepted more than trailing commas: \(String(decoding: bytes, as: UTF8.self))")
                ours = parser.parse(stripped)
                seen["trailing_comma", default: 0] += 1
            } else if case .failure(let rejection) = ours, rejection.reason == .notJSON, case .success = theirs {
                let stripped = Self.withoutTrailingCommas(bytes)
                #expect(stripped != bytes, "Foundation accepted more than trailing commas: \(String(decoding: bytes, as: UTF8.self))")
                ours = parser.parse(stripped)
                seen["trailing_comma", default: 0] += 1
            }
            let shown = String(decoding: bytes, as: UTF8.self)
            switch (ours, theirs) {
            case (.success(let a), .success(let b)):
                #expect(a == b, "\(shown)")
                seen["valid", default: 0] += 1
            case (.failure(let rejection), .success):
                // Ours refuses a repeated video_id that Foundation resolves by picking one.
                #expect(rejection.reason == .duplicateVideoID, "\(shown): \(rejection)")
                seen["duplicate", default: 0] += 1
            case (.failure(let rejection), .failure(let reason)):
                if rejection.reason == .duplicateVideoID {
                    #expect(reason != .notJSON && reason != .notUTF8 && reason != .notAnObject, "\(shown)")
                } else {
                    #expect(rejection.reason == reason, "\(shown): ours \(rejection), Foundation \(reason)")
                }
                seen[rejection.reason.rawValue, default: 0] += 1
            case (.success, .failure(let reason)):
                Issue.record("accepted what Foundation calls \(reason): \(shown)")
            }
        }
        // The generator must actually exercise the interesting classes.
        for key in ["valid", "not_json", "not_an_object", "missing_video_id", "video_id_not_string", "not_a_guid"] {
            #expect(seen[key, default: 0] > 20, "too few \(key) cases: \(seen)")
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

import PlayCounts
/// Reads replay traces: JSON lines `{"at_ms": <ms from start>, "video_id": "<GUID>"}`. Other keys are
/// ignored (the processor's receipt log adds `queued_ns`, `received_ns`, `batch`); blank lines and lines
/// starting with `#` are skipped; every bad line is reported with its number, parsing never stops early.
public enum TraceParser {
    /// Lines longer than this are reported as errors rather than scanned.
    public static let maxLineBytes = 64 * 1024

    public static func parse(_ text: String) -> TraceParseResult {
        var copy = text
        return copy.withUTF8 { parse(bytes: UnsafeRawBufferPointer($0)) }
    }

    public static func parse(_ bytes: [UInt8]) -> TraceParseResult {
        bytes.withUnsafeBytes { parse(bytes: $0) }
    }

    /// Reads and parses a whole file; throws only if the file cannot be read.
    public static func parse(fileAt path: String) throws(TraceFileError) -> TraceParseResult {
        try parse(readFile(path))
    }

    public static func parse(bytes: UnsafeRawBufferPointer) -> TraceParseResult {
        var result = TraceParseResult()
        var lineStart = 0
        var lineNumber = 1
        while lineStart < bytes.count {
            var lineEnd = lineStart
            while lineEnd < bytes.count, bytes[lineEnd] != UInt8(ascii: "\n") { lineEnd += 1 }
            var contentEnd = lineEnd
            if contentEnd > lineStart, bytes[contentEnd - 1] == UInt8(ascii: "\r") { contentEnd -= 1 }
            let line = UnsafeRawBufferPointer(rebasing: bytes[lineStart..<contentEnd])
            switch parseLine(line) {
            case .skip: break
            case .record(let record): result.records.append(record)
            case .error(let message): result.errors.append(TraceLineError(line: lineNumber, message: message))
            }
            lineStart = lineEnd + 1
            lineNumber += 1
        }
        return result
    }

    enum LineOutcome {
        case skip
        case record(TraceRecord)
        case error(String)
    }

    static func parseLine(_ line: UnsafeRawBufferPointer) -> LineOutcome {
        var first = 0
        while first < line.count, line[first] == 0x20 || line[first] == 0x09 { first += 1 }
        if first == line.count || line[first] == UInt8(ascii: "#") { return .skip }
        guard line.count <= maxLineBytes else { return .error("line is longer than \(maxLineBytes) bytes") }
        var scanner = JSONByteScanner(line)
        var offset: Int64?
        var offsetProblem: String?
        var video: VideoID?
        var videoProblem: String?
        do {
            guard scanner.peekValueKind() == .object else {
                try scanner.skipValue()
                try scanner.expectEnd()
                return .error("expected a JSON object")
            }
            try scanner.expect(UInt8(ascii: "{"), "'{'")
            var sawOffset = false
            var sawVideo = false
            if !scanner.consume(UInt8(ascii: "}")) {
                repeat {
                    let key = try scanner.scanString()
                    try scanner.expect(UInt8(ascii: ":"), "':'")
                    if scanner.string(key, equals: "at_ms") {
                        if sawOffset { offsetProblem = "\"at_ms\" appears more than once" }
                        sawOffset = true
                        if scanner.peekValueKind() == .number {
                            let token = try scanner.scanNumber()
                            if let value = millisecondsToNanoseconds(scanner, token) {
                                if offsetProblem == nil { offset = value }
                            } else {
                                offsetProblem = offsetProblem ?? "\"at_ms\" must be a number of milliseconds from 0 to 9e12"
                            }
                        } else {
                            try scanner.skipValue()
                            offsetProblem = offsetProblem ?? "\"at_ms\" must be a number"
                        }
                    } else if scanner.string(key, equals: "video_id") {
                        if sawVideo { videoProblem = "\"video_id\" appears more than once" }
                        sawVideo = true
                        if scanner.peekValueKind() == .string {
                            let token = try scanner.scanString()
                            let text = token.hasEscapes
                                ? scanner.decodedString(token)
                                : Array(UnsafeRawBufferPointer(rebasing: scanner.bytes[token.start..<token.end]))
                            if let id = text.withUnsafeBytes({ VideoID(utf8: $0) }) {
                                if videoProblem == nil { video = id }
                            } else {
                                let shown = String(decoding: text.prefix(48), as: UTF8.self)
                                videoProblem = videoProblem ?? "\"video_id\" \"\(shown)\" is not an 8-4-4-4-12 hex GUID"
                            }
                        } else {
                            try scanner.skipValue()
                            videoProblem = videoProblem ?? "\"video_id\" must be a string"
                        }
                    } else {
                        try scanner.skipValue()
                    }
                } while scanner.consume(UInt8(ascii: ","))
                try scanner.expect(UInt8(ascii: "}"), "',' or '}'")
            }
            try scanner.expectEnd()
            if !sawOffset { offsetProblem = "missing \"at_ms\"" }
            if !sawVideo { videoProblem = "missing \"video_id\"" }
        } catch {
            return .error("not valid JSON: \(error.message)")
        }
        let problems = [offsetProblem, videoProblem].compactMap { $0 }
        if !problems.isEmpty { return .error(problems.joined(separator: "; ")) }
        guard let offset, let video else { return .error("missing \"at_ms\" or \"video_id\"") }
        return .record(TraceRecord(offsetNanoseconds: offset, video: video))
    }

    /// Milliseconds (integer or decimal, 0 … 9e12 ≈ 285 years) to nanoseconds, nil when out of range.
    private static func millisecondsToNanoseconds(_ scanner: JSONByteScanner, _ token: JSONByteScanner.NumberToken) -> Int64? {
        if let integer = scanner.integerValue(token) {
            guard integer >= 0, integer <= 9_000_000_000_000 else { return nil }
            return integer * 1_000_000
        }
        guard let value = scanner.doubleValue(token), value >= 0, value <= 9e12 else { return nil }
        return Int64((value * 1_000_000).rounded())
    }

    private static func readFile(_ path: String) throws(TraceFileError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw TraceFileError(path: path, errno: errno) }
        defer { _ = close(fd) }
        var data: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw TraceFileError(path: path, errno: errno)
            }
            if count == 0 { break }
            data.append(contentsOf: chunk[0..<count])
        }
        return data
    }
}

/// A trace file that cannot be opened, read or written.
public struct TraceFileError: Error, Sendable, Hashable, CustomStringConvertible {
    public var path: String
    public var errno: Int32

    public var description: String { "\(path): \(String(cString: strerror(errno)))" }
}

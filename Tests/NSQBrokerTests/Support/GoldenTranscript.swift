import Foundation

/// Parses golden-tcp.txt: sections of client writes and server frames captured from nsqd v1.3.0.
struct GoldenTCPTranscript {
    enum Step: Equatable {
        /// Bytes the client wrote; `producer` when written on the second (publishing) connection.
        case client([UInt8], producer: Bool)
        /// One whole server frame.
        case server([UInt8])
        /// The server closed the connection.
        case serverClosed
    }

    struct Section {
        var title: String
        var steps: [Step]
    }

    var sections: [Section]

    init(text: String) {
        var sections: [Section] = []
        var producerMode = false
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = String(rawLine)
            if line.hasPrefix("## ") {
                sections.append(Section(title: String(line.dropFirst(3)), steps: []))
                producerMode = false
                continue
            }
            guard !sections.isEmpty else { continue }
            if line.hasPrefix("   (a second connection") { producerMode = true }
            if line.hasPrefix("C> ") {
                var content = String(line.dropFirst(3))
                if let comment = content.range(of: "    # ") { content = String(content[..<comment.lowerBound]) }
                let bytes = Self.unescape(content)
                let isPublish = content.hasPrefix("PUB ") || content.hasPrefix("MPUB ") || content.hasPrefix("DPUB ")
                sections[sections.count - 1].steps.append(.client(bytes, producer: producerMode && isPublish))
            } else if line.hasPrefix("S> frame hex ") {
                sections[sections.count - 1].steps.append(.server(Self.hex(String(line.dropFirst(13)))))
            } else if line.hasPrefix("S> <connection closed by server>") {
                sections[sections.count - 1].steps.append(.serverClosed)
            }
        }
        self.sections = sections
    }

    /// `\xNN` and `\n` escapes; everything else literal.
    static func unescape(_ text: String) -> [UInt8] {
        var out: [UInt8] = []
        let bytes = Array(text.utf8)
        var index = 0
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "\\"), index + 1 < bytes.count {
                if bytes[index + 1] == UInt8(ascii: "n") {
                    out.append(0x0A)
                    index += 2
                    continue
                }
                if bytes[index + 1] == UInt8(ascii: "x"), index + 3 < bytes.count,
                   let value = UInt8(String(decoding: bytes[index + 2...index + 3], as: UTF8.self), radix: 16) {
                    out.append(value)
                    index += 4
                    continue
                }
            }
            out.append(bytes[index])
            index += 1
        }
        return out
    }

    static func hex(_ text: String) -> [UInt8] {
        var out: [UInt8] = []
        var iterator = text.makeIterator()
        while let high = iterator.next(), let low = iterator.next() {
            if let value = UInt8(String([high, low]), radix: 16) { out.append(value) }
        }
        return out
    }
}

/// Parses golden-http.txt: curl commands and the responses nsqd / nsqlookupd gave.
struct GoldenHTTPTranscript {
    struct Exchange {
        var method: String
        /// Path and query, as curl sent them.
        var target: String
        var body: [UInt8]
        /// Whether the expectation includes status line and headers (`curl -i`).
        var includesHead: Bool
        /// Expected status line, headers (name, value) in order, and body.
        var statusLine: String
        var headers: [(String, String)]
        var expectedBody: String
    }

    var exchanges: [Exchange]

    init(text: String) {
        var exchanges: [Exchange] = []
        var current: Exchange?
        var responseLines: [String] = []
        func finish() {
            guard var exchange = current else { return }
            if exchange.includesHead {
                var index = 0
                exchange.statusLine = responseLines.first ?? ""
                index = 1
                while index < responseLines.count, !responseLines[index].isEmpty {
                    let parts = responseLines[index].split(separator: ":", maxSplits: 1)
                    exchange.headers.append((String(parts[0]), parts.count > 1 ? String(parts[1].dropFirst()) : ""))
                    index += 1
                }
                exchange.expectedBody = responseLines.dropFirst(index + 1).joined(separator: "\n")
            } else {
                exchange.expectedBody = responseLines.joined(separator: "\n")
            }
            while exchange.expectedBody.hasSuffix("\n") { exchange.expectedBody.removeLast() }
            exchanges.append(exchange)
            current = nil
            responseLines = []
        }
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = String(rawLine)
            if line.hasPrefix("$ ") {
                finish()
                current = Self.parseCommand(String(line.dropFirst(2)))
            } else if current != nil {
                if line.hasPrefix("#") { continue }
                responseLines.append(line)
            }
        }
        finish()
        self.exchanges = exchanges
    }

    private static func parseCommand(_ command: String) -> Exchange {
        var body: [UInt8] = []
        var words = tokenize(command)
        if words.first == "printf", words.count > 2, words[2] == "|" {
            body = GoldenTCPTranscript.unescape(words[1])
            words.removeFirst(3)
        }
        var includesHead = false
        var method = "GET"
        var url = ""
        var index = 1
        while index < words.count {
            switch words[index] {
            case "-i": includesHead = true
            case "-s": break
            case "-d", "--data-binary":
                method = "POST"
                index += 1
                if words[index] != "@-" { body = Array(words[index].utf8) }
            default: url = words[index]
            }
            index += 1
        }
        let target = url.range(of: "://").map { url[$0.upperBound...] }.map { rest in
            rest.firstIndex(of: "/").map { String(rest[$0...]) } ?? "/"
        } ?? url
        return Exchange(method: method, target: target, body: body, includesHead: includesHead,
                        statusLine: "", headers: [], expectedBody: "")
    }

    /// Shell-like words: single and double quotes group, no escapes inside single quotes.
    private static func tokenize(_ text: String) -> [String] {
        var words: [String] = []
        var current = ""
        var quote: Character?
        var inWord = false
        for character in text {
            if let open = quote {
                if character == open { quote = nil } else { current.append(character) }
            } else if character == "'" || character == "\"" {
                quote = character
                inWord = true
            } else if character == " " {
                if inWord { words.append(current) }
                current = ""
                inWord = false
            } else {
                current.append(character)
                inWord = true
            }
        }
        if inWord { words.append(current) }
        return words
    }
}

/// The transcripts copied beside the tests (found through `#filePath`, no package resources).
enum GoldenFiles {
    static func text(_ name: String) throws -> String {
        // This file is Tests/NSQBrokerTests/Support/GoldenTranscript.swift; the transcripts are in ../Resources.
        let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        return try String(contentsOf: directory.appendingPathComponent("Resources").appendingPathComponent(name), encoding: .utf8)
    }
}

/// Splits one shell line into words, the way a POSIX shell does for the simple cases people type.
///
/// - Words are separated by spaces and tabs.
/// - `'single quotes'` keep everything literally.
/// - `"double quotes"` keep everything except `\"`, `\\` and `\$`-style escapes (a backslash before any
///   other character is kept).
/// - Outside quotes a backslash escapes the next character; a trailing backslash is an error.
/// - `#` at the start of a word, outside quotes, starts a comment that runs to the end of the line.
/// - `""` and `''` produce an empty word.
public enum LineTokenizer {
    /// Why a line could not be split into words.
    public struct Error: Swift.Error, Equatable, CustomStringConvertible, Sendable {
        public let message: String
        public var description: String { message }

        static let unterminatedSingleQuote = Error(message: "unterminated single quote")
        static let unterminatedDoubleQuote = Error(message: "unterminated double quote")
        static let trailingBackslash = Error(message: "backslash at end of line escapes nothing")
    }

    /// Returns the words of `line`; throws `LineTokenizer.Error` for an unterminated quote or escape.
    public static func words(_ line: String) throws(Error) -> [String] {
        var words: [String] = []
        var current = ""
        var inWord = false
        let scalars = Array(line.unicodeScalars)
        var index = 0

        func flush() {
            if inWord {
                words.append(current)
                current = ""
                inWord = false
            }
        }

        while index < scalars.count {
            let scalar = scalars[index]
            switch scalar {
            case " ", "\t", "\r", "\n":
                flush()
                index += 1
            case "#" where !inWord:
                return words
            case "\\":
                guard index + 1 < scalars.count else { throw .trailingBackslash }
                current.unicodeScalars.append(scalars[index + 1])
                inWord = true
                index += 2
            case "'":
                inWord = true
                index += 1
                var closed = false
                while index < scalars.count {
                    if scalars[index] == "'" {
                        closed = true
                        index += 1
                        break
                    }
                    current.unicodeScalars.append(scalars[index])
                    index += 1
                }
                if !closed { throw .unterminatedSingleQuote }
            case "\"":
                inWord = true
                index += 1
                var closed = false
                while index < scalars.count {
                    let inner = scalars[index]
                    if inner == "\"" {
                        closed = true
                        index += 1
                        break
                    }
                    if inner == "\\", index + 1 < scalars.count,
                        ["\"", "\\", "$", "`"].contains(scalars[index + 1])
                    {
                        current.unicodeScalars.append(scalars[index + 1])
                        index += 2
                        continue
                    }
                    current.unicodeScalars.append(inner)
                    index += 1
                }
                if !closed { throw .unterminatedDoubleQuote }
            default:
                current.unicodeScalars.append(scalar)
                inWord = true
                index += 1
            }
        }
        flush()
        return words
    }

    /// Splits a `-c` argument into commands at `;` outside quotes (and not escaped by a backslash).
    /// The pieces are returned verbatim (quotes intact) so each is tokenized on its own.
    public static func statements(_ text: String) -> [String] {
        var statements: [String] = []
        var current = ""
        var quote: Unicode.Scalar? = nil
        var escaped = false
        for scalar in text.unicodeScalars {
            if escaped {
                current.unicodeScalars.append(scalar)
                escaped = false
                continue
            }
            switch scalar {
            case "\\" where quote != "'":
                escaped = true
                current.unicodeScalars.append(scalar)
            case "'", "\"":
                if quote == nil {
                    quote = scalar
                } else if quote == scalar {
                    quote = nil
                }
                current.unicodeScalars.append(scalar)
            case ";" where quote == nil:
                statements.append(current)
                current = ""
            case "\n" where quote == nil:
                statements.append(current)
                current = ""
            default:
                current.unicodeScalars.append(scalar)
            }
        }
        statements.append(current)
        return statements
    }
}

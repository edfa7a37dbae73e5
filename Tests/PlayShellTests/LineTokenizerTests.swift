import Testing

@testable import PlayShell
@testable import ShellKit

@Suite struct LineTokenizerTests {
    @Test func splitsWordsOnSpacesAndTabs() throws {
        #expect(try LineTokenizer.words("  seed  100000\tzipf ") == ["seed", "100000", "zipf"])
        #expect(try LineTokenizer.words("") == [])
        #expect(try LineTokenizer.words("   \t ") == [])
    }

    @Test func singleQuotesKeepEverythingLiterally() throws {
        #expect(try LineTokenizer.words(#"echo 'a b' 'x\y' '#no comment'"#) == ["echo", "a b", #"x\y"#, "#no comment"])
    }

    @Test func doubleQuotesHonourEscapes() throws {
        #expect(try LineTokenizer.words(#"echo "say \"hi\"" "back\\slash" "keep\n""#) == ["echo", #"say "hi""#, #"back\slash"#, #"keep\n"#])
    }

    @Test func backslashEscapesOutsideQuotes() throws {
        #expect(try LineTokenizer.words(##"echo a\ b \#x \'q"##) == ["echo", "a b", "#x", "'q"])
    }

    @Test func adjacentPartsFormOneWord() throws {
        #expect(try LineTokenizer.words(#"set name 'ab'"cd"ef"#) == ["set", "name", "abcdef"])
        #expect(try LineTokenizer.words(#"echo '' """#) == ["echo", "", ""])
    }

    @Test func hashStartsACommentOnlyAtAWordStart() throws {
        #expect(try LineTokenizer.words("# whole line") == [])
        #expect(try LineTokenizer.words("echo a # trailing") == ["echo", "a"])
        #expect(try LineTokenizer.words("echo a#b") == ["echo", "a#b"])
    }

    @Test func keepsNonASCII() throws {
        #expect(try LineTokenizer.words("echo héllo 'wörld ✓'") == ["echo", "héllo", "wörld ✓"])
    }

    @Test(arguments: [
        (#"echo 'open"#, "unterminated single quote"),
        (#"echo "open"#, "unterminated double quote"),
        (#"echo "a\""#, "unterminated double quote"),
        (#"echo tail\"#, "backslash at end of line escapes nothing"),
    ])
    func reportsUnterminatedInput(line: String, message: String) {
        #expect(throws: LineTokenizer.Error(message: message)) { try LineTokenizer.words(line) }
    }

    @Test func statementsSplitOnSemicolonsOutsideQuotes() {
        #expect(LineTokenizer.statements("echo a; echo 'b;c'; echo \"d;e\" ;echo f\\;g") == [
            "echo a", " echo 'b;c'", " echo \"d;e\" ", "echo f\\;g",
        ])
        #expect(LineTokenizer.statements("echo a") == ["echo a"])
    }

    @Test func randomInputNeverCrashes() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let scalars = (0..<Int.random(in: 0..<40, using: &generator)).map { _ in
                Character(Unicode.Scalar(UInt8.random(in: 0...127, using: &generator)))
            }
            let line = String(scalars)
            _ = try? LineTokenizer.words(line)
            _ = LineTokenizer.statements(line)
        }
    }
}

/// The line handling shared by the JSON-lines logs (publish log, receipt log): split on `\n`, skip blank
/// lines, parse each line with its 1-based number so errors can point at it.
enum LogLines {
    static func parse<Text: StringProtocol, Record>(
        _ text: Text, line parseLine: (Text.SubSequence, Int) throws(LogParseError) -> Record
    ) throws(LogParseError) -> [Record] {
        var records: [Record] = []
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            if line.allSatisfy({ $0.isWhitespace }) { continue }
            records.append(try parseLine(line, index + 1))
        }
        return records
    }
}

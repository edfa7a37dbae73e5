import Foundation

/// An aligned text table for people: a header row, then rows; numeric-looking cells are right-aligned.
///
/// ```swift
/// var table = Table(columns: ["video", "plays"])
/// table.append(["a1", "12"])
/// shell.printTable(table)
/// ```
public struct Table: Sendable, Equatable {
    public var columns: [String]
    public var rows: [[String]]

    public init(columns: [String], rows: [[String]] = []) {
        self.columns = columns
        self.rows = rows
    }

    public mutating func append(_ row: [String]) { rows.append(row) }

    /// The table as text, one line per row, columns separated by two spaces, no trailing spaces.
    public func rendered() -> String {
        let width = max(columns.count, rows.map(\.count).max() ?? 0)
        func cell(_ row: [String], _ column: Int) -> String { column < row.count ? row[column] : "" }
        var widths = Array(repeating: 0, count: width)
        for row in [columns] + rows {
            for column in 0..<width { widths[column] = max(widths[column], cell(row, column).count) }
        }
        let numeric = (0..<width).map { column in
            !rows.isEmpty && rows.allSatisfy { Self.looksNumeric(cell($0, column)) }
        }
        var lines: [String] = []
        for (index, row) in ([columns] + rows).enumerated() {
            var parts: [String] = []
            for column in 0..<width {
                let text = cell(row, column)
                let padding = String(repeating: " ", count: widths[column] - text.count)
                let rightAlign = numeric[column] && index > 0
                parts.append(rightAlign ? padding + text : text + padding)
            }
            var line = parts.joined(separator: "  ")
            while line.hasSuffix(" ") { line.removeLast() }
            lines.append(line)
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func looksNumeric(_ text: String) -> Bool {
        !text.isEmpty && Double(text.replacingOccurrences(of: ",", with: "")) != nil
    }
}

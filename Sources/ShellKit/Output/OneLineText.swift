extension String {
    /// The text with control characters and line/paragraph separators written as `\u{XX}` escapes, so an
    /// error that quotes user input stays one line on stderr and cannot inject terminal escapes.
    public var escapingControlCharacters: String {
        var result = ""
        result.reserveCapacity(utf8.count)
        for scalar in unicodeScalars {
            switch scalar.properties.generalCategory {
            case .control, .lineSeparator, .paragraphSeparator:
                result += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
            default:
                result.unicodeScalars.append(scalar)
            }
        }
        return result
    }
}

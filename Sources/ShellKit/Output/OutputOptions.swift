import ArgumentParser

/// The shared `--json` flag. Commands that report data include it with
/// `@OptionGroup var output: OutputOptions` and call `shell.report(value, json: output.json) { table }`.
public struct OutputOptions: ParsableArguments, Sendable {
    @Flag(name: .long, help: "Print JSON (one document) instead of a table.")
    public var json = false

    public init() {}
}

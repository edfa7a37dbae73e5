import ArgumentParser

/// Benchmarks that print figures. Each area adds its subcommand in a file of its own
/// and lists it in `subcommands` below.
@main
struct PlaycountBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "playcount-bench",
        abstract: "Benchmarks for playcount (run through Scripts/bench-*).",
        subcommands: [
            NSQBenchmark.self, ProcessorBenchmark.self, StoreBenchmarkCommand.self, FeedBenchmark.self, WebhookBenchmark.self,
        ]
    )
}

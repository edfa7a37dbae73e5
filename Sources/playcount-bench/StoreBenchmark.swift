import ArgumentParser
import Foundation
import PlayCounts
import PlayState
import PlayClients

/// Measures the state store: group-commit throughput (file in WAL mode vs `:memory:`), redelivery lookups,
/// pruning, and recovery of a state holding a million videos: `load()`, then the processor resuming from the
/// snapshot (its policy, stats and lower-bound tables). Prints figures; asserts nothing.
public func runStoreBenchmark(
    batches: Int = 200, messagesPerBatch: Int = 2_500, videosPerBatch: Int = 100, recoveryVideos: Int = 1_000_000
) async throws {
    let directory = FileManager.default.temporaryDirectory
        .appendingPathComponent("playcount-store-bench-\(ProcessInfo.processInfo.processIdentifier)", isDirectory: true)
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }

    print("store benchmark: \(batches) batches x \(messagesPerBatch) messages over \(videosPerBatch) videos")
    let variants: [(label: String, path: String, options: PlayStateStore.Options)] = [
        ("file", directory.appendingPathComponent("commit.db").path, .init()),
        ("fsync", directory.appendingPathComponent("commit-fsync.db").path, .init(fullSync: true)),
        ("memory", PlayStateStore.inMemoryPath, .init()),
    ]
    for (label, path, options) in variants {
        let store = try PlayStateStore(path: path, options: options)
        let seconds = try timeCommits(store, batches: batches, messagesPerBatch: messagesPerBatch, videosPerBatch: videosPerBatch)
        let messages = batches * messagesPerBatch
        print("  commit " + padded(label) + String(format: "  %9.0f msgs/s  %7.0f batches/s  (%.3f s for %d messages)",
                     Double(messages) / seconds, Double(batches) / seconds, seconds, messages))

        let redelivered = (0..<messagesPerBatch).map { benchKey(batch: batches / 2, index: $0) }
        let lookupStart = DispatchTime.now()
        let found = try store.alreadyCommitted(redelivered)
        let lookupSeconds = elapsed(since: lookupStart)
        print("  lookup " + padded(label) + String(format: "  %9.0f keys/s  (%d of %d found)",
                     Double(redelivered.count) / lookupSeconds, found.count, redelivered.count))

        // The first prune starts the current generation, the second makes it the previous one, the third
        // drops it: only that one is timed.
        let retention = PlayStateStore.defaultRetention
        try store.prune(now: 0)
        try store.prune(now: retention + 1)
        let pruneStart = DispatchTime.now()
        let pruned = try store.prune(now: 2 * retention + 2)
        print("  prune  " + padded(label) + String(format: "  %d ids in %.3f s", pruned, elapsed(since: pruneStart)))
        if path != PlayStateStore.inMemoryPath {
            print("  file size after commits: \(describeSize(of: path))")
        }
        try store.close()
    }

    let recoveryPath = directory.appendingPathComponent("recovery.db").path
    do {
        let store = try PlayStateStore(path: recoveryPath)
        let fillStart = DispatchTime.now()
        let chunk = 10_000
        for start in stride(from: 0, to: recoveryVideos, by: chunk) {
            var deltas: [VideoID: Int] = [:]
            var earliest: [VideoID: WallNanoseconds] = [:]
            deltas.reserveCapacity(chunk)
            for index in start..<min(start + chunk, recoveryVideos) {
                let video = benchVideo(UInt64(index))
                deltas[video] = 1 + index % 500
                if index % 3 == 0 { earliest[video] = WallNanoseconds(index) }
            }
            try store.commit(BatchCommit(messages: [], countDeltas: deltas, earliestUnpublished: earliest))
        }
        print(String(format: "recovery: filled %d videos in %.2f s", recoveryVideos, elapsed(since: fillStart)))
        try store.close()
    }
    print("  file size with \(recoveryVideos) videos: \(describeSize(of: recoveryPath))")
    let openStart = DispatchTime.now()
    let reopened = try PlayStateStore(path: recoveryPath)
    let openSeconds = elapsed(since: openStart)
    let loadStart = DispatchTime.now()
    let snapshot = try reopened.load()
    let loadSeconds = elapsed(since: loadStart)
    print(String(format: "  open %.3f s, load() %.3f s for %d videos (%d with a pending deadline)",
                 openSeconds, loadSeconds, snapshot.videos.count,
                 snapshot.videos.lazy.filter { $0.earliestUnpublished != nil }.count))
    // The calls the restore makes go nowhere: only the resume itself is timed, not publishing.
    let processor = PlayProcessor(client: try PublishClientFactory.make(spec: "file:/dev/null"))
    let restoreStart = DispatchTime.now()
    await processor.restore(from: snapshot)
    let restoreSeconds = elapsed(since: restoreStart)
    print(String(format: "  processor restore %.3f s; recovery (open + load + restore) %.3f s",
                 restoreSeconds, openSeconds + loadSeconds + restoreSeconds))
    try reopened.close()
}

private func timeCommits(_ store: PlayStateStore, batches: Int, messagesPerBatch: Int, videosPerBatch: Int) throws -> Double {
    var random = SystemRandomNumberGenerator()
    // Batches are built before timing so only the store is measured.
    let prepared: [BatchCommit] = (0..<batches).map { batch in
        var deltas: [VideoID: Int] = [:]
        var earliest: [VideoID: WallNanoseconds] = [:]
        let messages = (0..<messagesPerBatch).map { index -> MessageKey in
            let video = benchVideo(UInt64.random(in: 0..<UInt64(videosPerBatch), using: &random))
            deltas[video, default: 0] += 1
            if earliest[video] == nil, index % 7 == 0 { earliest[video] = WallNanoseconds(batch) }
            return benchKey(batch: batch, index: index)
        }
        return BatchCommit(messages: messages, countDeltas: deltas, earliestUnpublished: earliest)
    }
    let start = DispatchTime.now()
    for batch in prepared { try store.commit(batch) }
    return elapsed(since: start)
}

/// Keys shaped like nsqd's: increasing ids, timestamps in nanoseconds.
private func benchKey(batch: Int, index: Int) -> MessageKey {
    let sequence = UInt64(batch) << 20 | UInt64(index)
    return MessageKey(idHigh: 0x3030_3030_3030_3030 &+ sequence >> 32, idLow: sequence, timestamp: 1_700_000_000_000_000_000 + Int64(sequence))
}

private func benchVideo(_ n: UInt64) -> VideoID {
    VideoID(high: n &* 0x9E37_79B9_7F4A_7C15, low: n)
}

private func elapsed(since start: DispatchTime) -> Double {
    Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
}

private func describeSize(of path: String) -> String {
    let sizes = ["", "-wal"].map { suffix in
        ((try? FileManager.default.attributesOfItem(atPath: path + suffix)[.size]) as? NSNumber)?.intValue ?? 0
    }
    return String(format: "%.1f MiB (+ %.1f MiB WAL)", Double(sizes[0]) / 1_048_576, Double(sizes[1]) / 1_048_576)
}

private func padded(_ label: String) -> String {
    label.padding(toLength: 6, withPad: " ", startingAt: 0)
}

/// `playcount-bench store`: the state store's figures (see `runStoreBenchmark`).
struct StoreBenchmarkCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store",
        abstract: "Group-commit throughput (file vs :memory:) and recovery time of the state store.")

    @Option(help: "Read batches to commit.")
    var batches = 200

    @Option(help: "Messages per batch.")
    var messagesPerBatch = 2_500

    @Option(help: "Videos in the state that recovery loads.")
    var recoveryVideos = 1_000_000

    func run() async throws {
        try await runStoreBenchmark(batches: batches, messagesPerBatch: messagesPerBatch, recoveryVideos: recoveryVideos)
    }
}

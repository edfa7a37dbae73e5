import NIOCore
import NSQ
import PlayCounts
import PlayLoad
import ShellKit

/// Publishes plays to a topic, as fast as possible (MPUB batches) or on a schedule (`seed --rate`,
/// `replay`), reporting progress and counting what was actually published per video.
struct PacedPublisher {
    let producer: NSQProducer
    let topic: String
    /// K when plays go straight to the partition topics `<topic>.p<k>` (`seed --partitions K`); nil: `topic`.
    var partitions: Int?
    /// Called with (published, total) now and then, for a progress bar.
    var progress: (Int, Int) -> Void = { _, _ in }

    /// Plays published so far, per video (kept even when publishing fails half-way).
    private(set) var published: [VideoID: Int] = [:]
    private(set) var publishedCount = 0

    init(producer: NSQProducer, topic: String, progress: @escaping (Int, Int) -> Void = { _, _ in }) {
        self.producer = producer
        self.topic = topic
        self.progress = progress
    }

    /// Publishes `videos` in order, as fast as the broker takes them.
    mutating func publishAll(_ videos: some Sequence<VideoID>, total: Int) async throws {
        var chunk: [VideoID] = []
        chunk.reserveCapacity(Self.chunkSize)
        for video in videos {
            chunk.append(video)
            if chunk.count == Self.chunkSize {
                try await publish(chunk, total: total)
                chunk.removeAll(keepingCapacity: true)
            }
        }
        if !chunk.isEmpty { try await publish(chunk, total: total) }
    }

    /// Publishes each play when it is due: `dueNanoseconds` after the start. Plays that fall due together
    /// (or while the previous publish was on the wire) go out as one MPUB.
    mutating func publishScheduled(
        _ events: some Sequence<(dueNanoseconds: Int64, video: VideoID)>, total: Int
    ) async throws {
        let clock = ContinuousClock()
        let start = clock.now
        var pending: [VideoID] = []
        var iterator = events.makeIterator()
        var next = iterator.next()
        while let event = next {
            let due = start + .nanoseconds(event.dueNanoseconds)
            if due > clock.now, !pending.isEmpty {
                try await publish(pending, total: total)
                pending.removeAll(keepingCapacity: true)
                continue
            }
            if due > clock.now { try await clock.sleep(until: due) }
            pending.append(event.video)
            next = iterator.next()
            if pending.count >= Self.chunkSize {
                try await publish(pending, total: total)
                pending.removeAll(keepingCapacity: true)
            }
        }
        if !pending.isEmpty { try await publish(pending, total: total) }
    }

    private static let chunkSize = 5_000

    private func publish(_ videos: [VideoID], to topic: String) async throws {
        let bodies = videos.map { ByteBuffer(bytes: SeedPlan.body(for: $0)) }
        if bodies.count == 1 {
            try await producer.publish(topic: topic, body: bodies[0])
        } else {
            try await producer.publishBatched(topic: topic, bodies: bodies)
        }
    }

    private mutating func publish(_ videos: [VideoID], total: Int) async throws {
        try Task.checkCancellation()
        if let partitions, partitions > 1 {
            var byPartition: [Int: [VideoID]] = [:]
            for video in videos { byPartition[Partition.of(video, count: partitions).index, default: []].append(video) }
            for (index, group) in byPartition.sorted(by: { $0.key < $1.key }) {
                try await publish(group, to: Partition(index: index, count: partitions)!.topic(of: topic))
                for video in group { published[video, default: 0] += 1 }
                publishedCount += group.count
            }
            progress(publishedCount, total)
            return
        }
        try await publish(videos, to: topic)
        for video in videos { published[video, default: 0] += 1 }
        publishedCount += videos.count
        progress(publishedCount, total)
    }
}

extension ShellContext {
    /// Publishes plays to the `topic` setting's nsqd with `body`, drawing a progress bar for people, and
    /// records what was published (even on failure) for `expect counts == seeded`. Returns how many plays
    /// went out and how long it took; an interruption or failure names how far it got.
    func publishPlays(
        _ label: String, total: Int, partitions: Int? = nil, _ body: (inout PacedPublisher) async throws -> Void
    ) async throws -> (plays: Int, seconds: Double) {
        let topic = settings[.topic]
        let producer = try await app.producer(for: topic, in: self)
        let bar = ProgressBar(shell: self, label: label)
        var publisher = PacedPublisher(producer: producer, topic: topic, progress: bar.update)
        publisher.partitions = partitions
        let started = ContinuousClock.now
        defer { app.addExpected(publisher.published) }
        do {
            try await body(&publisher)
        } catch is CancellationError {
            throw ShellError("\(label) interrupted after \(publisher.publishedCount) of \(total) plays")
        } catch {
            throw ShellError("\(label) failed after \(publisher.publishedCount) of \(total) plays: \(error)")
        }
        return (publisher.publishedCount, (ContinuousClock.now - started).secondsValue)
    }
}

/// A one-line progress bar on stderr, drawn only for people at a terminal.
final class ProgressBar {
    let shell: ShellContext
    let label: String
    private var lastDrawn = -1

    init(shell: ShellContext, label: String) {
        self.shell = shell
        self.label = label
    }

    func update(_ done: Int, _ total: Int) {
        guard shell.isInteractive, total > 0 else { return }
        let percent = done * 100 / total
        guard percent != lastDrawn else { return }
        lastDrawn = percent
        let filled = percent / 4
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: 25 - filled)
        shell.err.write("\r\(label) [\(bar)] \(percent)% \(done)/\(total)")
        if done >= total { shell.err.write("\n") }
    }
}

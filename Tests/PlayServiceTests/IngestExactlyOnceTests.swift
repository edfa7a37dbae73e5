import Logging
import NIOCore
import NSQ
import PlayCounts
import PlayState
import Testing

@testable import PlayService
import Locking

/// The exactly-once rules of ingest, read as a specification: what one chunk of a read batch counts, skips,
/// dead-letters, commits, FINs and requeues, given what the store already holds (``ChunkIngest`` over
/// ``IngestDecision``, with the store, the dead-letter topic and nsqd replaced by a recording fake).
@Suite struct IngestExactlyOnceTests {
    static let videoA = "0f8fad5b-d9cb-469f-a165-70867728950e"
    static let videoB = "7c9e6679-7425-40de-944b-e07fc1f90ae7"
    static let t0: Int64 = 1_700_000_000 * 1_000_000_000

    static func message(_ n: UInt64, body: String, attempts: UInt16 = 1) -> NSQMessage {
        NSQMessage(
            timestamp: t0 + Int64(n), attempts: attempts, id: NSQMessageID(high: 0, low: n),
            body: ByteBuffer(string: body))
    }

    static func play(_ n: UInt64, _ video: String = videoA, attempts: UInt16 = 1) -> NSQMessage {
        message(n, body: #"{"video_id": "\#(video)"}"#, attempts: attempts)
    }

    /// Runs one chunk holding every message of `deliveries` (one array per delivery).
    static func ingest(
        _ deliveries: [[NSQMessage]], effects: RecordingEffects
    ) async -> ChunkIngest.Outcome {
        var tracker = RedeliveryTracker(batch: deliveries)
        let chunk = deliveries.indices.flatMap { d in deliveries[d].indices.map { MessageRef(delivery: d, message: $0) } }
        return await ChunkIngest(parser: PlayMessageParser()).run(
            chunk, of: deliveries, redelivery: &tracker, receivedAt: t0 + 1_000_000, effects: effects)
    }

    @Test func firstDeliveryIsCommittedThenFinished() async throws {
        let effects = RecordingEffects()
        let messages = [Self.play(1), Self.play(2, Self.videoB), Self.play(3)]
        let outcome = await Self.ingest([messages], effects: effects)

        #expect(outcome.committed)
        #expect(outcome.plays.count == 3)
        #expect(outcome.duplicates == 0)
        let commit = try #require(effects.commits.first)
        #expect(effects.commits.count == 1)
        #expect(Set(commit.messages) == Set(messages.map(MessageKey.init)))
        #expect(commit.countDeltas == [VideoID(Self.videoA)!: 2, VideoID(Self.videoB)!: 1])
        #expect(commit.earliestUnpublished[VideoID(Self.videoA)!] == Self.t0 + 1)
        // FIN comes after the commit, for every message; nothing is requeued.
        #expect(effects.log == ["commit", "finish"])
        #expect(effects.finished == Set([0, 1, 2].map { MessageRef(delivery: 0, message: $0) }))
        #expect(effects.requeued.isEmpty)
    }

    @Test func redeliveryOfACommittedMessageIsFinishedWithoutCounting() async throws {
        let committed = Self.play(1, attempts: 2)
        let effects = RecordingEffects(committed: [MessageKey(committed)])
        let outcome = await Self.ingest([[committed, Self.play(2)]], effects: effects)

        #expect(outcome.committed)
        #expect(outcome.duplicates == 1)
        #expect(outcome.plays.count == 1)
        #expect(effects.askedAbout == [[MessageKey(committed)]])  // only redeliveries are looked up
        let commit = try #require(effects.commits.first)
        #expect(commit.messages == [MessageKey(Self.play(2))])
        #expect(commit.countDeltas == [VideoID(Self.videoA)!: 1])
        #expect(effects.finished == [MessageRef(delivery: 0, message: 0), MessageRef(delivery: 0, message: 1)])
    }

    @Test func redeliveryOfAnUncommittedMessageCounts() async throws {
        let effects = RecordingEffects()
        let redelivered = Self.play(1, attempts: 3)
        let outcome = await Self.ingest([[redelivered]], effects: effects)

        #expect(outcome.duplicates == 0)
        #expect(outcome.plays.count == 1)
        #expect(effects.commits.first?.messages == [MessageKey(redelivered)])
        #expect(effects.finished == [MessageRef(delivery: 0, message: 0)])
    }

    @Test func aMessageDeliveredTwiceInOneReadBatchCountsOnce() async throws {
        // nsqd timed the first copy out and sent it again (attempts 2) while the first still waited.
        let effects = RecordingEffects()
        let first = Self.play(1)
        var again = first
        again.attempts = 2
        let outcome = await Self.ingest([[first], [again]], effects: effects)

        #expect(outcome.plays.count == 1)
        #expect(outcome.duplicates == 1)
        #expect(effects.commits.first?.messages == [MessageKey(first)])
        // Only the first copy is FIN'd: the same id on the same channel settles both.
        #expect(effects.finished == [MessageRef(delivery: 0, message: 0)])
    }

    @Test(arguments: [
        ("not json", PlayMessageRejection.Reason.notJSON),
        (#"[1, 2]"#, .notAnObject),
        (#"{"id": "x"}"#, .missingVideoID),
        (#"{"video_id": 7}"#, .videoIDNotString),
        (#"{"video_id": "not-a-guid"}"#, .notAGUID),
    ])
    func anInvalidBodyIsDeadLetteredThenCommittedAndFinished(body: String, reason: PlayMessageRejection.Reason)
        async throws
    {
        let effects = RecordingEffects()
        let bad = Self.message(9, body: body)
        let outcome = await Self.ingest([[Self.play(1), bad]], effects: effects)

        #expect(outcome.committed)
        #expect(outcome.deadLettered == 1)
        #expect(outcome.rejections.map(\.rejection.reason) == [reason])
        #expect(effects.letters.map(\.reason) == [reason.rawValue])
        #expect(effects.letters.first?.messageID == bad.id.description)
        // Its key is committed with the plays (a redelivery is then a duplicate), but it counts no play.
        let commit = try #require(effects.commits.first)
        #expect(Set(commit.messages) == [MessageKey(Self.play(1)), MessageKey(bad)])
        #expect(commit.countDeltas == [VideoID(Self.videoA)!: 1])
        #expect(effects.log == ["dead letters", "commit", "finish"])
        #expect(effects.finished.count == 2)
    }

    @Test func aBodyOverTheSizeLimitIsDeadLettered() async throws {
        let effects = RecordingEffects()
        let huge = Self.message(1, body: String(repeating: " ", count: PlayMessageParser.defaultMaxBodyBytes + 1))
        let outcome = await Self.ingest([[huge]], effects: effects)
        #expect(outcome.rejections.map(\.rejection.reason) == [.tooLarge])
        #expect(effects.letters.first?.bodyTruncated == false)
        #expect(effects.finished == [MessageRef(delivery: 0, message: 0)])
    }

    @Test func anInvalidMessageWhoseDeadLetterFailsIsRequeuedNotFinished() async throws {
        let effects = RecordingEffects()
        effects.failDeadLetters = true
        let outcome = await Self.ingest([[Self.play(1), Self.message(2, body: "{")]], effects: effects)

        #expect(outcome.committed)
        #expect(outcome.deadLettered == 0)
        #expect(outcome.deadLetterFailures == 1)
        #expect(effects.requeued == [MessageRef(delivery: 0, message: 1)])
        #expect(effects.commits.first?.messages == [MessageKey(Self.play(1))])
        #expect(effects.finished == [MessageRef(delivery: 0, message: 0)])
    }

    @Test func aFailedCommitRequeuesTheChunkButFinishesWhatWasCommittedBefore() async throws {
        let before = Self.play(1, attempts: 2)
        let effects = RecordingEffects(committed: [MessageKey(before)])
        effects.failCommit = true
        let outcome = await Self.ingest([[before, Self.play(2), Self.message(3, body: "x")]], effects: effects)

        #expect(!outcome.committed)
        #expect(outcome.plays.isEmpty)
        #expect(outcome.deadLettered == 0)  // it will be published again on redelivery
        #expect(effects.finished == [MessageRef(delivery: 0, message: 0)])
        #expect(effects.requeued == [MessageRef(delivery: 0, message: 1), MessageRef(delivery: 0, message: 2)])
        #expect(effects.warnings.count == 1)
    }

    @Test func aStoreThatCannotSayWhatIsCommittedRequeuesEverything() async throws {
        let effects = RecordingEffects()
        effects.failLookup = true
        let outcome = await Self.ingest([[Self.play(1, attempts: 2), Self.play(2)]], effects: effects)

        #expect(!outcome.committed)
        #expect(effects.commits.isEmpty)
        #expect(effects.finished.isEmpty)
        #expect(effects.requeued == [MessageRef(delivery: 0, message: 0), MessageRef(delivery: 0, message: 1)])
    }

    @Test func maxAttemptsDeadLettersOnlyWhatWasNeverCommitted() throws {
        let tired = Self.play(1, attempts: 6)
        let letter = try #require(IngestDecision.giveUp(tired, committed: false, maxAttempts: 5))
        #expect(letter.reason == DeadLetter.maxAttemptsReason)
        #expect(letter.attempts == 6)
        #expect(IngestDecision.giveUp(tired, committed: true, maxAttempts: 5) == nil)
    }
}

/// Records what ingest asked of the world; each failure can be switched on.
final class RecordingEffects: IngestEffects, @unchecked Sendable {
    var committedKeys: Set<MessageKey>
    var failLookup = false, failDeadLetters = false, failCommit = false
    private(set) var askedAbout: [[MessageKey]] = []
    private(set) var letters: [DeadLetter] = []
    private(set) var commits: [BatchCommit] = []
    private(set) var finished: Set<MessageRef> = []
    private(set) var requeued: Set<MessageRef> = []
    /// What was logged at warning level or above.
    var warnings: [String] { logged.withLock { $0 } }
    private let logged = Locked<[String]>([])
    /// The order of the effects that matter: "dead letters", "commit", "finish".
    private(set) var log: [String] = []

    struct Failure: Error {}

    init(committed: Set<MessageKey> = []) {
        committedKeys = committed
    }

    var deadLetterDestination: String { "plays.dead" }

    func alreadyCommitted(_ keys: [MessageKey]) throws -> Set<MessageKey> {
        if failLookup { throw Failure() }
        if !keys.isEmpty { askedAbout.append(keys) }
        return committedKeys.intersection(keys)
    }

    func publishDeadLetters(_ letters: [DeadLetter]) async throws {
        if failDeadLetters { throw Failure() }
        log.append("dead letters")
        self.letters += letters
    }

    func writeAhead(_ plays: [Play], keys: [MessageKey]) {}

    func commit(_ batch: BatchCommit) throws {
        if failCommit { throw Failure() }
        log.append("commit")
        commits.append(batch)
        committedKeys.formUnion(batch.messages)
    }

    func finish(_ refs: [MessageRef]) async {
        log.append("finish")
        finished.formUnion(refs)
    }

    func requeue(_ refs: [MessageRef]) { requeued.formUnion(refs) }

    var logger: Logger {
        let logged = self.logged
        return Logger(label: "test") { _ in RecordingLogHandler(logged: logged) }
    }
}

/// Keeps the messages of warnings and errors.
struct RecordingLogHandler: LogHandler {
    let logged: Locked<[String]>
    var logLevel: Logger.Level = .warning
    var metadata: Logger.Metadata = [:]
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }
    func log(event: LogEvent) { logged.withLock { $0.append("\(event.message)") } }
}

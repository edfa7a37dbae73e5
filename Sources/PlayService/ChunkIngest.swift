import Logging
import NSQ
import PlayCounts
import PlayState

/// What ingest does to the world: the store, the dead-letter topic, the receipt file and nsqd. Behind a
/// protocol so the exactly-once sequence (``ChunkIngest``) runs in tests without sockets or SQLite.
protocol IngestEffects {
    /// Where dead letters go (the topic), for messages.
    var deadLetterDestination: String { get }
    /// Which of `keys` the store holds as committed.
    func alreadyCommitted(_ keys: [MessageKey]) throws -> Set<MessageKey>
    func publishDeadLetters(_ letters: [DeadLetter]) async throws
    /// Writes plays to the `record` file before their commit (see ``ReceiptRecorder/writeAhead``).
    func writeAhead(_ plays: [Play], keys: [MessageKey])
    /// One transaction: the message keys, the count deltas, the earliest unpublished queue times.
    func commit(_ batch: BatchCommit) throws
    /// Acknowledges messages: nsqd forgets them.
    func finish(_ refs: [MessageRef]) async
    /// Gives messages back to nsqd for redelivery.
    func requeue(_ refs: [MessageRef])
    /// Where warnings about the chunk go.
    var logger: Logger { get }
}

/// Carries out the ``IngestDecision`` for one chunk of a read batch, in the order that makes counting exactly
/// once over NSQ's at-least-once delivery:
/// 1. ask the store which redeliveries are committed (if it cannot say, requeue the chunk);
/// 2. decide (``IngestDecision/decide``);
/// 3. publish the dead letters (if that fails, requeue the invalid messages: they are tried again);
/// 4. commit the plays' and dead letters' keys with the count deltas in one transaction;
/// 5. only then FIN what was committed and what was committed before.
/// If the commit fails, the chunk's redeliveries committed before are still FIN'd and everything else is
/// requeued: nothing of the chunk was counted, so its redelivery counts it.
struct ChunkIngest {
    let parser: PlayMessageParser

    /// What one chunk gave.
    struct Outcome: Sendable {
        /// The plays committed and FIN'd, grouped by video; empty if the commit failed.
        var plays = PlayBatch()
        var deadLettered = 0
        var deadLetterFailures = 0
        var duplicates = 0
        /// False when the store could not answer or commit: the chunk was requeued (the rest of the read
        /// batch should be too).
        var committed = true
        /// The invalid messages' rejections, for reporting.
        var rejections: [(id: NSQMessageID, rejection: PlayMessageRejection)] = []
    }

    func run(
        _ chunk: [MessageRef], of messages: [[NSQMessage]], redelivery: inout RedeliveryTracker,
        receivedAt now: WallNanoseconds, effects: some IngestEffects
    ) async -> Outcome {
        var outcome = Outcome()
        let parsed = ParsedMessage.parse(chunk, of: messages, parser: parser)
        let committedBefore: Set<MessageKey>
        do {
            committedBefore = try effects.alreadyCommitted(IngestDecision.redeliveredKeys(parsed))
        } catch {
            effects.logger.error("cannot look up redelivered messages: \(error); requeueing the batch")
            effects.requeue(chunk)
            outcome.committed = false
            return outcome
        }
        let decision = IngestDecision.decide(
            parsed, of: messages, committed: committedBefore, redelivery: &redelivery, receivedAt: now)
        outcome.duplicates = decision.duplicates
        outcome.rejections = decision.invalid.map { (messages[$0.ref.delivery][$0.ref.message].id, $0.rejection) }

        var keys = decision.playKeys
        var finish = decision.playRefs + decision.repeatedCopies
        // Dead letters first: an invalid message is acknowledged only once its dead letter is out.
        if !decision.invalid.isEmpty {
            do {
                try await effects.publishDeadLetters(decision.invalid.map(\.letter))
                outcome.deadLettered = decision.invalid.count
                keys.append(contentsOf: decision.invalid.lazy.map(\.key))
                finish.append(contentsOf: decision.invalid.lazy.map(\.ref))
            } catch {
                effects.logger.error(
                    "cannot publish \(decision.invalid.count) dead letter(s): \(error); requeueing them",
                    metadata: ["topic": "\(effects.deadLetterDestination)"])
                outcome.deadLetterFailures = decision.invalid.count
                effects.requeue(decision.invalid.map(\.ref))
            }
        }

        effects.writeAhead(decision.plays, keys: decision.playKeys)
        // One hash lookup per play, here only: the store, the processor and the stats take the plays by video
        // (a chunk holds a few dozen videos).
        let grouped = PlayBatch(decision.plays)
        var countDeltas: [VideoID: Int] = Dictionary(minimumCapacity: grouped.videos.count)
        var earliest: [VideoID: WallNanoseconds] = Dictionary(minimumCapacity: grouped.videos.count)
        for group in grouped.videos {
            countDeltas[group.video] = group.plays.count
            earliest[group.video] = group.earliestQueuedAt
        }
        do {
            try effects.commit(BatchCommit(messages: keys, countDeltas: countDeltas, earliestUnpublished: earliest))
        } catch {
            effects.logger.error("cannot commit: \(error); requeueing the batch")
            if !decision.committedBefore.isEmpty { await effects.finish(decision.committedBefore) }
            effects.requeue(finish)
            outcome.committed = false
            outcome.deadLettered = 0
            return outcome
        }
        // Committed: acknowledge the chunk so nsqd sends more while the rest is processed.
        finish.append(contentsOf: decision.committedBefore)
        if !finish.isEmpty { await effects.finish(finish) }
        outcome.plays = grouped
        return outcome
    }
}

import NSQ
import PlayCounts
import PlayState

/// A message of a read batch: the index of its delivery, and its index among that delivery's messages. Two
/// integers, so a chunk names its messages without copying them (a copy retains the body's buffer).
struct MessageRef: Hashable, Sendable {
    var delivery: Int
    var message: Int
}

/// The exactly-once decision for one chunk of a read batch: which messages count as plays, which are
/// duplicates, which are dead-lettered, and which are FIN'd. It is made from the messages and what the store
/// says is already committed, and does nothing itself: ``ChunkIngest`` carries it out.
///
/// The rules, for a message in the chunk:
/// - a redelivery (attempts > 1) whose key is committed was counted before (a crash or a lost FIN after its
///   commit): FIN'd, not counted, whatever becomes of the rest of the chunk;
/// - a second copy of a message already seen in this read batch (nsqd timed it out and sent it again while
///   the first copy waited): skipped; the first copy's FIN (same id, same connection) settles both;
/// - a body that is not a play: a dead letter, FIN'd once the dead letter is out and the chunk committed;
/// - any other: a play, counted in the chunk's commit and FIN'd after it.
struct IngestDecision: Sendable {
    /// Valid plays, in arrival order; `playKeys[i]` and `playRefs[i]` belong to `plays[i]`.
    var plays: [Play] = []
    var playKeys: [MessageKey] = []
    var playRefs: [MessageRef] = []
    /// Redeliveries committed before: FIN them without counting.
    var committedBefore: [MessageRef] = []
    /// Second copies of a message already in this read batch: nothing to do.
    var repeatedInBatch = 0
    /// Messages that are not plays, each with its dead letter.
    var invalid: [InvalidMessage] = []

    struct InvalidMessage: Sendable {
        var ref: MessageRef
        var key: MessageKey
        var rejection: PlayMessageRejection
        var letter: DeadLetter
    }

    var duplicates: Int { committedBefore.count + repeatedInBatch }

    /// The keys of the chunk's redelivered messages: the only ones the store must be asked about.
    static func redeliveredKeys(_ chunk: [MessageRef], of messages: [[NSQMessage]]) -> [MessageKey] {
        chunk.compactMap { ref in
            let message = messages[ref.delivery][ref.message]
            return message.attempts > 1 ? MessageKey(message) : nil
        }
    }

    /// Decides every message of `chunk` (refs into `messages`, one array per delivery), given which of its
    /// redeliveries the store holds as committed. `redelivery` tracks keys across the read batch's chunks.
    static func decide(
        _ chunk: [MessageRef], of messages: [[NSQMessage]], committed: Set<MessageKey>,
        redelivery: inout RedeliveryTracker, parser: PlayMessageParser, receivedAt now: WallNanoseconds
    ) -> IngestDecision {
        var decision = IngestDecision()
        decision.plays.reserveCapacity(chunk.count)
        decision.playKeys.reserveCapacity(chunk.count)
        decision.playRefs.reserveCapacity(chunk.count)
        for ref in chunk {
            let message = messages[ref.delivery][ref.message]
            let key = MessageKey(id: message.id, timestamp: message.timestamp)
            if message.attempts > 1, committed.contains(key) {
                decision.committedBefore.append(ref)
                continue
            }
            if !redelivery.firstSight(of: key) {
                decision.repeatedInBatch += 1
                continue
            }
            switch parser.parse(message.body) {
            case .success(let video):
                decision.plays.append(Play(video: video, queuedAt: message.timestamp, receivedAt: now))
                decision.playKeys.append(key)
                decision.playRefs.append(ref)
            case .failure(let rejection):
                decision.invalid.append(
                    InvalidMessage(
                        ref: ref, key: key, rejection: rejection, letter: DeadLetter(message: message, rejection: rejection)))
            }
        }
        return decision
    }

    /// What becomes of a message the consumer gave up on (delivered more than max attempts; already FIN'd by
    /// the consumer): nil if it was committed before (a duplicate), else its dead letter.
    static func giveUp(_ message: NSQMessage, committed: Bool, maxAttempts: UInt16) -> DeadLetter? {
        if committed { return nil }
        return DeadLetter(
            message: message, reason: DeadLetter.maxAttemptsReason,
            detail: "delivered \(message.attempts) times, more than max attempts \(maxAttempts)")
    }
}

/// The keys of a read batch's redelivered messages (usually none), and which of them were seen so far.
struct RedeliveryTracker: Sendable {
    let keys: Set<MessageKey>
    private var seen: Set<MessageKey> = []

    /// A message redelivered (timed out) while its first delivery still waited in the inbox arrives twice in
    /// one batch, the second time with attempts > 1: any key delivered twice in a batch is one of these.
    init(batch messages: [[NSQMessage]]) {
        keys = Set(messages.joined().lazy.filter { $0.attempts > 1 }.map(MessageKey.init))
    }

    /// False when `key` is a redelivered message's key already seen in this batch.
    mutating func firstSight(of key: MessageKey) -> Bool {
        guard !keys.isEmpty, keys.contains(key) else { return true }
        return seen.insert(key).inserted
    }
}

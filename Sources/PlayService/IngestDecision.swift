import NSQ
import PlayCounts
import PlayState

/// A message of a read batch: the index of its delivery, and its index among that delivery's messages. Two
/// integers, so a chunk names its messages without copying them (a copy retains the body's buffer).
struct MessageRef: Hashable, Sendable {
    var delivery: Int
    var message: Int
}

/// A message of a chunk, parsed: the play or why it is not one, and the key it is counted under.
struct ParsedMessage: Sendable {
    var ref: MessageRef
    var result: Result<ParsedPlay, PlayMessageRejection>
    /// The original message's key for a routed play (``PlayOrigin``), else the message's own.
    var key: MessageKey
    /// True when an earlier delivery of the play may have been counted: the message is a redelivery, or the
    /// original was delivered to a router more than once.
    var mayRepeat: Bool

    init(ref: MessageRef, message: NSQMessage, parser: PlayMessageParser) {
        self.ref = ref
        result = parser.parsePlay(message.body)
        if case .success(let play) = result, let origin = play.origin {
            key = MessageKey(idHigh: origin.idHigh, idLow: origin.idLow, timestamp: origin.queuedAt)
            mayRepeat = message.attempts > 1 || origin.attempts > 1
        } else {
            key = MessageKey(message)
            mayRepeat = message.attempts > 1
        }
    }

    var origin: PlayOrigin? { if case .success(let play) = result { play.origin } else { nil } }

    /// Parses every message of `chunk`.
    static func parse(_ chunk: [MessageRef], of messages: [[NSQMessage]], parser: PlayMessageParser) -> [ParsedMessage] {
        chunk.map { ParsedMessage(ref: $0, message: messages[$0.delivery][$0.message], parser: parser) }
    }
}

/// The exactly-once decision for one chunk of a read batch: which messages count as plays, which are
/// duplicates, which are dead-lettered, and which are FIN'd. It is made from the parsed messages and what the
/// store says is already committed, and does nothing itself: ``ChunkIngest`` carries it out.
///
/// The rules, for a message in the chunk:
/// - a message that may repeat an earlier delivery (a redelivery, or a routed copy of an original a router was
///   sent more than once) whose key is committed was counted before: FIN'd, not counted, whatever becomes of
///   the rest of the chunk;
/// - a second copy of a message already seen in this read batch (nsqd timed it out and sent it again while
///   the first copy waited): skipped; the first copy's FIN (same id, same connection) settles both. A second
///   routed copy of one original is a message of its own on the partition topic: FIN'd with the chunk;
/// - a body that is not a play: a dead letter, FIN'd once the dead letter is out and the chunk committed;
/// - any other: a play, counted in the chunk's commit and FIN'd after it. A routed play counts under its
///   original key, from its original queue time.
struct IngestDecision: Sendable {
    /// Valid plays, in arrival order; `playKeys[i]` and `playRefs[i]` belong to `plays[i]`.
    var plays: [Play] = []
    var playKeys: [MessageKey] = []
    var playRefs: [MessageRef] = []
    /// Redeliveries committed before: FIN them without counting.
    var committedBefore: [MessageRef] = []
    /// Second copies of a message already in this read batch that nsqd sent as the same message: nothing to do.
    var repeatedInBatch = 0
    /// Second routed copies of an original already in this read batch: FIN'd with the chunk, not counted.
    var repeatedCopies: [MessageRef] = []
    /// Messages that are not plays, each with its dead letter.
    var invalid: [InvalidMessage] = []

    struct InvalidMessage: Sendable {
        var ref: MessageRef
        var key: MessageKey
        var rejection: PlayMessageRejection
        var letter: DeadLetter
    }

    var duplicates: Int { committedBefore.count + repeatedInBatch + repeatedCopies.count }

    /// The keys the store must be asked about: those of messages that may repeat an earlier delivery.
    static func redeliveredKeys(_ parsed: [ParsedMessage]) -> [MessageKey] {
        parsed.compactMap { $0.mayRepeat ? $0.key : nil }
    }

    /// Decides every message of a chunk (parsed, refs into `messages`, one array per delivery), given which of
    /// its possible repeats the store holds as committed. `redelivery` tracks keys across the read batch's chunks.
    static func decide(
        _ parsed: [ParsedMessage], of messages: [[NSQMessage]], committed: Set<MessageKey>,
        redelivery: inout RedeliveryTracker, receivedAt now: WallNanoseconds
    ) -> IngestDecision {
        var decision = IngestDecision()
        decision.plays.reserveCapacity(parsed.count)
        decision.playKeys.reserveCapacity(parsed.count)
        decision.playRefs.reserveCapacity(parsed.count)
        for item in parsed {
            let ref = item.ref
            let message = messages[ref.delivery][ref.message]
            if item.mayRepeat, committed.contains(item.key) {
                decision.committedBefore.append(ref)
                continue
            }
            switch redelivery.sight(of: item.key, id: message.id, routed: item.origin != nil) {
            case .first: break
            case .sameMessageAgain:
                decision.repeatedInBatch += 1
                continue
            case .anotherCopy:
                decision.repeatedCopies.append(ref)
                continue
            }
            switch item.result {
            case .success(let play):
                decision.plays.append(
                    Play(video: play.video, queuedAt: play.origin?.queuedAt ?? message.timestamp, receivedAt: now))
                decision.playKeys.append(item.key)
                decision.playRefs.append(ref)
            case .failure(let rejection):
                decision.invalid.append(
                    InvalidMessage(
                        ref: ref, key: item.key, rejection: rejection, letter: DeadLetter(message: message, rejection: rejection)))
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

/// The keys of a read batch's redelivered messages (usually none), and which of them were seen so far; and the
/// keys of its routed plays, each with the message that carried it first.
struct RedeliveryTracker: Sendable {
    let keys: Set<MessageKey>
    private var seen: Set<MessageKey> = []
    private var routed: [MessageKey: NSQMessageID] = [:]

    enum Sight { case first, sameMessageAgain, anotherCopy }

    /// A message redelivered (timed out) while its first delivery still waited in the inbox arrives twice in
    /// one batch, the second time with attempts > 1: any key delivered twice in a batch is one of these.
    init(batch messages: [[NSQMessage]]) {
        keys = Set(messages.joined().lazy.filter { $0.attempts > 1 }.map(MessageKey.init))
    }

    /// Whether `key` was seen before in this batch. Routed plays are all tracked: two copies of one original
    /// (a router sent it twice) are two messages whose own attempts may both be 1; a copy is the same message
    /// again only when nsqd's id is the same too.
    mutating func sight(of key: MessageKey, id: NSQMessageID, routed isRouted: Bool) -> Sight {
        if isRouted {
            guard let first = routed[key] else {
                routed[key] = id
                return .first
            }
            return first == id ? .sameMessageAgain : .anotherCopy
        }
        guard !keys.isEmpty, keys.contains(key) else { return .first }
        return seen.insert(key).inserted ? .first : .sameMessageAgain
    }
}

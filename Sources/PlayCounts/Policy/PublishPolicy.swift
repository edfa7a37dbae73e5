/// The publish rules as a pure state machine: events in (plays read together, time passed, flush, delivery),
/// calls out. No sockets, files or clocks: every instant is supplied by the caller, so hours of simulated time
/// run in milliseconds.
///
/// Calls are *pulled*: events only decide which videos are due, and ``nextCall(now:)`` composes the next call
/// when the caller can send one. With a client that answers at once, the calls are the ones made right after
/// each event; with a client that is slow or down, videos that fall due meanwhile wait together and share the
/// next calls, carrying their newest counts (fewer calls, and the same rules).
///
/// How it decides:
/// - A play is *realtime* when its video had fewer than `realtimeThreshold` plays before it. Every video with a
///   realtime play in a read batch is due at once (rule 1); one batch's realtime videos share calls, 20 per call.
/// - Any other play makes its video *held* until `queuedAt + maxStaleness - safetyMargin` (the earliest such
///   instant among its unpublished plays). Held videos are published as late as is safe: when the earliest
///   deadline comes due, a call carries that video and fills up with the next-earliest held videos (rule 2).
/// - Spare room in every call, realtime or deadline, carries held videos, earliest deadline first: those slots
///   are free, and publishing a held video early never costs a call now.
/// - A play received at or past its safe deadline is due at once and goes out with the batch's calls.
/// - A call never carries more than `maxVideosPerCall` videos (rule 3) nor a video whose count is unchanged
///   since it was last handed out (rule 4). What was handed out and what the client acknowledged are both kept
///   here, so rule 4 lives in this one place: a refused call is retried through ``retry(_:)``, which carries the
///   current counts of its videos that the client has not yet seen.
///
/// The number of calls is within a few per cent of `PublishLowerBound` on live traffic; the gap is the safety
/// margin (see `PublishPolicyConfiguration.safetyMargin`).
public struct PublishPolicy: Sendable {
    /// What the caller must do after an event.
    public struct Actions: Sendable, Hashable {
        /// Calls to make now, in order; each has at most `maxVideosPerCall` videos with changed counts.
        public var calls: [[VideoCount]]
        /// Call `tick(now:)` at this instant (the earliest held deadline); nil when nothing is held.
        public var wakeAt: WallNanoseconds?

        public init(calls: [[VideoCount]] = [], wakeAt: WallNanoseconds? = nil) {
            self.calls = calls
            self.wakeAt = wakeAt
        }
    }

    public let configuration: PublishPolicyConfiguration
    /// Per video: plays received, the count last handed out in a call (or acknowledged as delivered), and the
    /// count last acknowledged as delivered.
    private struct Counts: Sendable {
        var received = 0
        var published = 0
        /// `delivered` shifted left once, with `isDue` in the low bit: three words a video, not four with a
        /// separate Bool's padding (8 MB less at a million videos).
        private var deliveredAndDue = 0

        init(received: Int = 0, published: Int = 0, delivered: Int = 0) {
            self.received = received
            self.published = published
            self.deliveredAndDue = delivered << 1
        }

        var delivered: Int {
            get { deliveredAndDue >> 1 }
            set { deliveredAndDue = newValue << 1 | (deliveredAndDue & 1) }
        }

        /// In `due` (a flag here, not a `Set` beside the table: with a slow client nearly every video can be
        /// due at once, and a set of a million ids costs 34 MB).
        var isDue: Bool {
            get { deliveredAndDue & 1 == 1 }
            set { deliveredAndDue = deliveredAndDue & ~1 | (newValue ? 1 : 0) }
        }
    }
    private var counts = VideoTable(initial: Counts())
    private var held = HeldVideos()
    /// Plays received, all of them.
    public private(set) var receivedPlays = 0
    /// Plays received already past `queuedAt + maxStaleness`: they cannot be on time, whatever the policy does.
    public private(set) var latePlays = 0

    public init(configuration: PublishPolicyConfiguration = PublishPolicyConfiguration()) {
        self.configuration = configuration
    }

    // MARK: Queries

    /// Every video's play count as received.
    public var allCounts: [VideoID: Int] {
        Dictionary(uniqueKeysWithValues: zip(counts.videos, counts.values.lazy.map(\.received)))
    }
    /// The play count of `video` as received.
    public func count(of video: VideoID) -> Int { counts.value(of: video).received }
    /// The count last handed out for `video` in a call (or acknowledged as delivered).
    public func publishedCount(of video: VideoID) -> Int { counts.value(of: video).published }
    /// The count the client last accepted for `video` (as acknowledged, or restored).
    public func deliveredCount(of video: VideoID) -> Int { counts.value(of: video).delivered }
    /// How many videos have unpublished held plays.
    public var heldVideoCount: Int { held.count }
    /// The instant the next held video comes due; nil when nothing is held.
    public var nextDeadline: WallNanoseconds? { held.earliestDeadline }

    /// The slots (in `counts`) of the videos due now (realtime, past their deadline, restored, flushed), in the
    /// order they fell due, each once, from `dueHead` on. Reading runs ahead of a slow client, so nearly every
    /// video can be due at once: 4 bytes a video, and the consumed prefix is dropped once it is half the array
    /// (it was kept while anything stayed due, and grew with every play: 50 MB at 10M plays over 1M videos).
    private var due: [UInt32] = []
    private var dueHead = 0

    /// Whether a call is due now (``nextCall(now:)`` would return one, unless rule 4 empties it).
    public var hasDueVideos: Bool { dueHead < due.count }
    /// The calls the due videos need, 20 to a call.
    public var dueCallCount: Int {
        let waiting = due.count - dueHead
        return (waiting + configuration.maxVideosPerCall - 1) / configuration.maxVideosPerCall
    }

    // MARK: Events

    /// One read batch: every play in it was read off the wire together, at `now`.
    public mutating func receive(_ plays: [Play], now: WallNanoseconds) -> Actions {
        receive(PlayBatch(plays), now: now)
    }

    /// One read batch: every play in it was read off the wire together, at `now`; returns every call due now
    /// (for a client that takes calls at once; see ``record(_:now:)``).
    public mutating func receive(_ batch: PlayBatch, now: WallNanoseconds) -> Actions {
        record(batch, now: now)
        return takeCalls(now: now)
    }

    /// One read batch, counted: its realtime videos and any held video past its deadline become due.
    public mutating func record(_ batch: PlayBatch, now: WallNanoseconds) {
        let holdFor = configuration.maxStaleness - configuration.safetyMargin
        let threshold = configuration.realtimeThreshold
        for group in batch.videos {
            let slot = counts.slot(of: group.video)
            let before = counts.values[slot].received
            counts.values[slot].received = before + group.plays.count
            receivedPlays += group.plays.count
            for play in group.plays where play.receivedAt > play.queuedAt.saturatingAdd(configuration.maxStaleness) {
                latePlays += 1
            }
            if before < threshold {
                // Its first plays are realtime; the call carries the whole count, covering any held ones.
                held.release(group.video)
                markDue(group.video)
            } else if !counts.values[slot].isDue {
                held.hold(group.video, until: group.earliestQueuedAt.saturatingAdd(holdFor))
            }
        }
        advance(to: now)
    }

    /// Time passed: every held video whose deadline is at or before `now` becomes due.
    public mutating func advance(to now: WallNanoseconds) {
        while let video = held.popEarliest(dueBy: now) { markDue(video) }
    }

    /// Time passed: publishes every held video whose deadline is at or before `now`.
    public mutating func tick(now: WallNanoseconds) -> Actions {
        advance(to: now)
        return takeCalls(now: now)
    }

    /// Makes everything held due now.
    public mutating func flushHeld() {
        while let video = held.popEarliest() { markDue(video) }
    }

    /// Publishes everything held, now.
    public mutating func flush() -> Actions {
        flushHeld()
        return takeCalls(now: .max)
    }

    /// Resumes from durable state after a restart, before any play is received (see ``resume(from:now:)``), and
    /// returns the calls due now.
    public mutating func restore(_ videos: [RestoredVideo], now: WallNanoseconds) -> Actions {
        resume(from: videos, now: now)
        return takeCalls(now: now)
    }

    /// Resumes from durable state after a restart, before any play is received: sets every video's count and
    /// last published count. A video whose first unpublished play was realtime (its published count is below
    /// the threshold) is due at once; any other unpublished video is held until its original deadline,
    /// `earliestUnpublished + maxStaleness - safetyMargin` (due at once when that is past or unknown).
    public mutating func resume(from videos: [RestoredVideo], now: WallNanoseconds) {
        let holdFor = configuration.maxStaleness - configuration.safetyMargin
        for stored in videos {
            counts.values[counts.slot(of: stored.video)] = Counts(
                received: stored.plays, published: stored.published, delivered: stored.published)
            guard stored.plays != stored.published else { continue }
            if stored.published < configuration.realtimeThreshold {
                markDue(stored.video)
            } else {
                held.hold(stored.video, until: stored.earliestUnpublished.map { $0.saturatingAdd(holdFor) } ?? now)
            }
        }
        advance(to: now)
    }

    /// A call was delivered with `counts`, which may be newer than the counts the policy handed out (a retried
    /// call carries current counts). Videos now published in full stop being held.
    public mutating func acknowledge(_ delivered: [VideoCount]) {
        for entry in delivered {
            let slot = counts.slot(of: entry.video)
            counts.values[slot].published = max(counts.values[slot].published, entry.plays)
            counts.values[slot].delivered = entry.plays
            if entry.plays >= counts.values[slot].received { held.release(entry.video) }
        }
    }

    // MARK: Composing calls

    /// The next call, if one is due: up to `maxVideosPerCall` due videos (in the order they fell due), its spare
    /// room filled with the earliest-deadline held videos; everything carried is marked as handed out. Nil when
    /// nothing is due (or every due video's count was already handed out).
    public mutating func nextCall(now: WallNanoseconds) -> [VideoCount]? {
        advance(to: now)
        let limit = configuration.maxVideosPerCall
        var call: [VideoCount] = []
        call.reserveCapacity(limit)
        while call.count < limit, dueHead < due.count {
            let slot = Int(due[dueHead])
            dueHead += 1
            counts.values[slot].isDue = false
            take(slot: slot, into: &call)
        }
        if dueHead == due.count {
            due.removeAll(keepingCapacity: true)
            dueHead = 0
        } else if dueHead >= 4096, dueHead * 2 >= due.count {
            due.removeFirst(dueHead)
            dueHead = 0
        }
        guard !call.isEmpty else { return nil }
        while call.count < limit, let video = held.popEarliest() {
            take(video, into: &call)
        }
        return call
    }

    /// Every call due now, in order: what a client that answers at once receives.
    public mutating func takeCalls(now: WallNanoseconds) -> Actions {
        var calls: [[VideoCount]] = []
        while let call = nextCall(now: now) { calls.append(call) }
        return Actions(calls: calls, wakeAt: held.earliestDeadline)
    }

    /// A refused call, to be attempted again: the current counts of its videos that the client has not yet
    /// acknowledged (rule 4), each marked as handed out again; empty when nothing of it is left to send.
    public mutating func retry(_ videos: [VideoID]) -> [VideoCount] {
        var call: [VideoCount] = []
        for video in videos {
            guard let slot = counts.existingSlot(of: video) else { continue }
            let current = counts.values[slot].received
            guard current != counts.values[slot].delivered else { continue }
            counts.values[slot].published = current
            call.append(VideoCount(video: video, plays: current))
        }
        return call
    }

    private mutating func markDue(_ video: VideoID) {
        let slot = counts.slot(of: video)
        guard !counts.values[slot].isDue else { return }
        counts.values[slot].isDue = true
        due.append(UInt32(truncatingIfNeeded: slot))
    }

    /// Adds `video` with its current count unless that count was already handed out (rule 4).
    private mutating func take(_ video: VideoID, into call: inout [VideoCount]) {
        guard let slot = counts.existingSlot(of: video) else { return }
        take(slot: slot, into: &call)
    }

    private mutating func take(slot: Int, into call: inout [VideoCount]) {
        let video = counts.videos[slot]
        let count = counts.values[slot].received
        guard count != counts.values[slot].published else { return }
        counts.values[slot].published = count
        call.append(VideoCount(video: video, plays: count))
    }
}

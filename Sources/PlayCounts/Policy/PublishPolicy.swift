/// The publish rules as a pure state machine: events in (plays read together, time passed, flush, delivery),
/// actions out (calls to make now, the instant to be woken at). No sockets, files or clocks: every instant is
/// supplied by the caller, so hours of simulated time run in milliseconds.
///
/// How it decides:
/// - A play is *realtime* when its video had fewer than `realtimeThreshold` plays before it. Every video with a
///   realtime play in a read batch is published in the calls made right after that batch (rule 1); one batch's
///   realtime videos share calls, 20 per call.
/// - Any other play makes its video *held* until `queuedAt + maxStaleness - safetyMargin` (the earliest such
///   instant among its unpublished plays). Held videos are published as late as is safe: when the earliest
///   deadline comes due, a call carries that video and fills up with the next-earliest held videos (rule 2).
/// - Spare room in every call, realtime or deadline, carries held videos, earliest deadline first: those slots
///   are free, and publishing a held video early never costs a call now.
/// - A play received at or past its safe deadline is due at once and goes out with the batch's calls.
/// - A call never carries more than `maxVideosPerCall` videos (rule 3) nor a video whose count is unchanged
///   since it was last published (rule 4).
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
        var delivered = 0
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

    // MARK: Events

    /// One read batch: every play in it was read off the wire together, at `now`.
    public mutating func receive(_ plays: [Play], now: WallNanoseconds) -> Actions {
        receive(PlayBatch(plays), now: now)
    }

    /// One read batch: every play in it was read off the wire together, at `now`.
    public mutating func receive(_ batch: PlayBatch, now: WallNanoseconds) -> Actions {
        var realtime: [VideoID] = []
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
                realtime.append(group.video)
            } else {
                held.hold(group.video, until: group.earliestQueuedAt.saturatingAdd(holdFor))
            }
        }
        for video in realtime { held.release(video) }
        var mandatory = realtime
        while let due = held.popEarliest(dueBy: now) { mandatory.append(due) }
        return Actions(calls: makeCalls(mandatory: mandatory), wakeAt: held.earliestDeadline)
    }

    /// Time passed: publishes every held video whose deadline is at or before `now`.
    public mutating func tick(now: WallNanoseconds) -> Actions {
        var mandatory: [VideoID] = []
        while let due = held.popEarliest(dueBy: now) { mandatory.append(due) }
        return Actions(calls: makeCalls(mandatory: mandatory), wakeAt: held.earliestDeadline)
    }

    /// Publishes everything held, now.
    public mutating func flush() -> Actions {
        var mandatory: [VideoID] = []
        while let video = held.popEarliest() { mandatory.append(video) }
        return Actions(calls: makeCalls(mandatory: mandatory), wakeAt: nil)
    }

    /// Resumes from durable state after a restart, before any play is received: sets every video's count and
    /// last published count and returns the calls due now. A video whose first unpublished play was realtime
    /// (its published count is below the threshold) is due at once; any other unpublished video is held until
    /// its original deadline, `earliestUnpublished + maxStaleness - safetyMargin` (at once when that is past
    /// or unknown).
    public mutating func restore(_ videos: [RestoredVideo], now: WallNanoseconds) -> Actions {
        let holdFor = configuration.maxStaleness - configuration.safetyMargin
        var mandatory: [VideoID] = []
        for stored in videos {
            counts.values[counts.slot(of: stored.video)] = Counts(
                received: stored.plays, published: stored.published, delivered: stored.published)
            guard stored.plays != stored.published else { continue }
            if stored.published < configuration.realtimeThreshold {
                mandatory.append(stored.video)
            } else {
                held.hold(stored.video, until: stored.earliestUnpublished.map { $0.saturatingAdd(holdFor) } ?? now)
            }
        }
        while let due = held.popEarliest(dueBy: now) { mandatory.append(due) }
        return Actions(calls: makeCalls(mandatory: mandatory), wakeAt: held.earliestDeadline)
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

    /// Splits `mandatory` into calls of at most `maxVideosPerCall`, fills the last call's spare room with the
    /// earliest-deadline held videos, and marks everything carried as published.
    private mutating func makeCalls(mandatory: [VideoID]) -> [[VideoCount]] {
        let limit = configuration.maxVideosPerCall
        var calls: [[VideoCount]] = []
        var current: [VideoCount] = []
        current.reserveCapacity(limit)
        func take(_ video: VideoID, into call: inout [VideoCount]) {
            guard let slot = counts.existingSlot(of: video) else { return }
            let count = counts.values[slot].received
            guard count != counts.values[slot].published else { return }  // rule 4
            counts.values[slot].published = count
            call.append(VideoCount(video: video, plays: count))
        }
        for video in mandatory {
            take(video, into: &current)
            if current.count == limit {
                calls.append(current)
                current.removeAll(keepingCapacity: true)
            }
        }
        guard !current.isEmpty else { return calls }
        while current.count < limit, let video = held.popEarliest() {
            take(video, into: &current)
        }
        calls.append(current)
        return calls
    }
}

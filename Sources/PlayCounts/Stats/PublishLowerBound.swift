import DequeModule
import HeapModule

/// The fewest calls any policy obeying the rules could have made for the plays as they were received,
/// computed online (amortised O(log n) per play; memory bounded by the videos plus the last `maxStaleness` of
/// forced calls and held groups).
///
/// **Bound.** `F + ceil(max(0, H − M) / 20)`, where
/// - `F` = Σ over read batches of `ceil(r_b / 20)`, `r_b` the videos with a realtime play in batch `b`; those
///   calls leave `s_b = 20·ceil(r_b/20) − r_b` spare slots at the batch's read instant `t_b`;
/// - `H` = Σ over videos of the number of *groups* the greedy below makes of its held plays' windows, a held
///   play's window being `[t_b, max(t_b, queuedAt + maxStaleness)]` (held plays read in a batch where their video
///   also has a realtime play are left out: that realtime slot covers them);
/// - `M` ≤ `S = Σ s_b` is the maximum number of groups that can be matched to spare slots lying inside the
///   group's span `[first t_b, smallest window end]`, found by earliest-deadline-first matching.
/// With `M` replaced by `S` this is the simpler `F + ceil(max(0, H − S)/20)`; `M` is just as valid and far
/// tighter when spare room and held plays are apart in time (realtime plays early, held plays late).
///
/// **Proof.** (1) Rule 1 makes the `r_b` videos appear in calls made after batch `b` is read and before batch
/// `b+1` is: ≥ `ceil(r_b/20)` calls per batch, disjoint between batches, so ≥ `F` calls. (2) Per video, windows
/// are grouped in read order; a window starting after the group's smallest right end `m` opens a new group. The
/// window achieving `m` lies inside the group's span, and spans of one video are pairwise disjoint (the next group
/// starts after `m`), so every group needs its own slot (call, video) inside its span; a realtime slot of the same
/// video serves only its own batch, whose held plays are left out. (3) At most `M` groups can use spare slots of
/// forced calls (a policy's choice is a matching; EDF over points in time order, taking the available spans with
/// the smallest `m`, is a maximum matching for intervals and points with capacities). The other ≥ `H − M` groups
/// need slots in further calls of ≤ 20 videos. Flushes and late plays only add calls. ∎
///
/// Online detail: a forced instant `t` is matched once reads have moved past `t + maxStaleness`, when every
/// group that could use it has its final `m` (a group whose `m` has passed cannot shrink further: a later play
/// would start a new group). Groups still open at that moment (clock skew) keep the `m` they had, a relaxation
/// that can only lower the bound. `value` finishes the matching on a copy with the groups as they are now.
public struct PublishLowerBound: Sendable {
    private struct ForcedInstant: Sendable {
        var time: WallNanoseconds
        var spare: Int
    }

    /// A held group waiting to be offered to forced instants, in order of its first read.
    private struct PendingGroup: Sendable {
        var start: WallNanoseconds
        /// The video's slot in `videos`.
        var slot: Int
        var serial: Int
        /// Set when the group closes; while open, the video's current group end is used.
        var end: WallNanoseconds?
    }

    private struct Candidate: Comparable, Sendable {
        var end: WallNanoseconds
        var serial: Int
        static func < (lhs: Candidate, rhs: Candidate) -> Bool { (lhs.end, lhs.serial) < (rhs.end, rhs.serial) }
    }

    public let configuration: PublishPolicyConfiguration
    /// What the bound keeps per video.
    private struct VideoState: Sendable {
        var count = 0
        /// The open group's serial (-1: none; serials start at 0) and smallest right end, as two plain fields:
        /// an optional tuple would make a video cost 32 bytes instead of 24 (8 MB more at a million videos).
        private var openSerial = -1
        private var openEnd: WallNanoseconds = 0

        /// The open group's serial and smallest right end.
        var openGroup: (serial: Int, end: WallNanoseconds)? {
            get { openSerial < 0 ? nil : (openSerial, openEnd) }
            set {
                openSerial = newValue?.serial ?? -1
                openEnd = newValue?.end ?? 0
            }
        }
    }

    private var videos = VideoTable(initial: VideoState())
    private var lastBatchTime: WallNanoseconds = .min
    private var forcedInstants = Deque<ForcedInstant>()
    private var pendingGroups = Deque<PendingGroup>()
    /// Serial of the first group in `pendingGroups` (serials are consecutive).
    private var firstPendingSerial = 0
    private var candidates = Heap<Candidate>()

    /// Calls forced by realtime plays (`F`).
    public private(set) var forcedCalls = 0
    /// Realtime (batch, video) slots (`Σ r_b`).
    public private(set) var realtimeSlots = 0
    /// Held groups, each needing its own slot (`H`).
    public private(set) var heldSlots = 0
    /// Groups matched to spare slots so far (committed part of `M`).
    private var matchedSlots = 0

    public init(configuration: PublishPolicyConfiguration = PublishPolicyConfiguration()) {
        self.configuration = configuration
    }

    /// Spare room in the forced calls (`S`).
    public var spareSlots: Int { forcedCalls * configuration.maxVideosPerCall - realtimeSlots }

    /// Held groups that spare room could carry (`M`).
    public var usableSpareSlots: Int {
        var copy = self
        copy.match(through: .max)
        return copy.matchedSlots
    }

    /// The bound itself.
    public var value: Int {
        let limit = configuration.maxVideosPerCall
        let extra = max(0, heldSlots - usableSpareSlots)
        return forcedCalls + (extra + limit - 1) / limit
    }

    /// One read batch, in the order its plays were read.
    public mutating func observe(batch plays: [Play]) {
        observe(batch: PlayBatch(plays))
    }

    /// One read batch.
    public mutating func observe(batch: PlayBatch) {
        guard !batch.isEmpty else { return }
        var batchTime = lastBatchTime
        for play in batch.plays { batchTime = max(batchTime, play.receivedAt) }
        lastBatchTime = batchTime
        match(through: batchTime.saturatingSubtract(configuration.maxStaleness).saturatingSubtract(1))

        let threshold = configuration.realtimeThreshold
        var realtimeVideos = 0
        // Per video with only held plays in this batch: its slot and its earliest held play. (A video with a
        // realtime play here is published with the batch, which covers its held plays too.)
        var heldPlays: [(slot: Int, queuedAt: WallNanoseconds)] = []
        for group in batch.videos {
            let slot = videos.slot(of: group.video)
            let before = videos.values[slot].count
            videos.values[slot].count = before + group.plays.count
            if before < threshold {
                realtimeVideos += 1
            } else {
                heldPlays.append((slot, group.earliestQueuedAt))
            }
        }
        if realtimeVideos > 0 {
            let limit = configuration.maxVideosPerCall
            let calls = (realtimeVideos + limit - 1) / limit
            forcedCalls += calls
            realtimeSlots += realtimeVideos
            let spare = calls * limit - realtimeVideos
            if spare > 0 { forcedInstants.append(ForcedInstant(time: batchTime, spare: spare)) }
        }
        for (slot, queuedAt) in heldPlays {
            let end = max(batchTime, queuedAt.saturatingAdd(configuration.maxStaleness))
            let open = videos.values[slot].openGroup
            if let open, batchTime <= open.end {
                if end < open.end { videos.values[slot].openGroup = (open.serial, end) }
            } else {
                if let open { close(serial: open.serial, end: open.end) }
                let serial = firstPendingSerial + pendingGroups.count
                pendingGroups.append(PendingGroup(start: batchTime, slot: slot, serial: serial))
                videos.values[slot].openGroup = (serial, end)
                heldSlots += 1
            }
        }
    }

    private mutating func close(serial: Int, end: WallNanoseconds) {
        let index = serial - firstPendingSerial
        if index >= 0, index < pendingGroups.count { pendingGroups[index].end = end }
    }

    private func currentEnd(of group: PendingGroup) -> WallNanoseconds {
        if let end = group.end { return end }
        if let open = videos.values[group.slot].openGroup, open.serial == group.serial { return open.end }
        return group.start
    }

    /// Matches forced instants up to `horizon` to the groups that can use them, earliest end first.
    private mutating func match(through horizon: WallNanoseconds) {
        while let instant = forcedInstants.first, instant.time <= horizon {
            forcedInstants.removeFirst()
            while let group = pendingGroups.first, group.start <= instant.time {
                pendingGroups.removeFirst()
                firstPendingSerial += 1
                candidates.insert(Candidate(end: currentEnd(of: group), serial: group.serial))
            }
            while let candidate = candidates.min, candidate.end < instant.time { candidates.removeMin() }
            var spare = instant.spare
            while spare > 0, candidates.popMin() != nil {
                spare -= 1
                matchedSlots += 1
            }
        }
        // Groups that ended before every instant still to come can never be matched: forget them (an open
        // group whose end has passed is final too: any later play of its video starts a new group).
        let nextInstant = forcedInstants.first?.time ?? lastBatchTime
        while let group = pendingGroups.first, currentEnd(of: group) < nextInstant {
            pendingGroups.removeFirst()
            firstPendingSerial += 1
        }
    }
}

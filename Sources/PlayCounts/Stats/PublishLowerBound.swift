/// The fewest calls any policy obeying the rules could have made for the plays as they were received,
/// computed online in O(1) per play.
///
/// **Bound.** `F + ceil(max(0, H − S) / 20)` where
/// - `F` = Σ over read batches of `ceil(r_b / 20)`, `r_b` the videos with a realtime play in batch `b`;
/// - `S` = `20·F − Σ r_b`, the spare room those forced calls leave;
/// - `H` = Σ over videos of the minimum number of instants stabbing every window of its held plays, a held
///   play's window being `[t_b, max(t_b, queuedAt + maxStaleness)]` with `t_b` the (running maximum) read time of
///   its batch. Held plays read in a batch where their video also has a realtime play are left out.
///
/// **Proof.** (1) Rule 1 makes the `r_b` videos appear in calls made after batch `b` is read and before batch
/// `b+1` is: at least `ceil(r_b/20)` calls per batch, disjoint between batches, so ≥ `F` calls, holding `Σ r_b`
/// realtime slots. (2) A held play is visible only through a call, made after its batch was read and no later
/// than its deadline, that carries its video: a slot (call, video) inside its window. The greedy below keeps, per
/// video, groups of windows sorted by left end with the group's smallest right end `m`; a window starting after
/// `m` opens a new group. The windows that set `m` in consecutive groups are pairwise disjoint, so the video needs
/// as many distinct slots as it has groups (and that many suffice: one at each `m`). A realtime slot of the same
/// video can only serve held plays of its own batch (its later held plays are read after it), which are left
/// out, so the `H` held slots are distinct from the realtime ones. (3) All slots fit in calls of ≤ 20: with
/// `F + E` calls, `Σ r_b + H ≤ 20(F + E)`, so `E ≥ (H − S)/20`. Flushes and late plays only add calls.
public struct PublishLowerBound: Sendable {
    public let configuration: PublishPolicyConfiguration
    private var counts: [VideoID: Int] = [:]
    /// Per video, the smallest right end of its open group of held windows.
    private var openGroupEnd: [VideoID: WallNanoseconds] = [:]
    private var lastBatchTime: WallNanoseconds = .min

    /// Calls forced by realtime plays (`F`).
    public private(set) var forcedCalls = 0
    /// Realtime (batch, video) slots (`Σ r_b`).
    public private(set) var realtimeSlots = 0
    /// Held slots needed (`H`).
    public private(set) var heldSlots = 0

    public init(configuration: PublishPolicyConfiguration = PublishPolicyConfiguration()) {
        self.configuration = configuration
    }

    /// Spare room in the forced calls (`S`).
    public var spareSlots: Int { forcedCalls * configuration.maxVideosPerCall - realtimeSlots }

    /// The bound itself.
    public var value: Int {
        let limit = configuration.maxVideosPerCall
        let extra = max(0, heldSlots - spareSlots)
        return forcedCalls + (extra + limit - 1) / limit
    }

    /// One read batch, in the order its plays were read.
    public mutating func observe(batch plays: [Play]) {
        guard !plays.isEmpty else { return }
        var batchTime = lastBatchTime
        for play in plays { batchTime = max(batchTime, play.receivedAt) }
        lastBatchTime = batchTime

        var realtime = Set<VideoID>()
        var heldPlays: [Play] = []
        for play in plays {
            let before = counts[play.video, default: 0]
            counts[play.video] = before + 1
            if before < configuration.realtimeThreshold {
                realtime.insert(play.video)
            } else {
                heldPlays.append(play)
            }
        }
        if !realtime.isEmpty {
            let limit = configuration.maxVideosPerCall
            forcedCalls += (realtime.count + limit - 1) / limit
            realtimeSlots += realtime.count
        }
        for play in heldPlays where !realtime.contains(play.video) {
            let end = max(batchTime, play.queuedAt + configuration.maxStaleness)
            if let groupEnd = openGroupEnd[play.video], batchTime <= groupEnd {
                openGroupEnd[play.video] = min(groupEnd, end)
            } else {
                openGroupEnd[play.video] = end
                heldSlots += 1
            }
        }
    }
}

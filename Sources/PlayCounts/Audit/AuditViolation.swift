/// One broken rule found by `PublishAudit`.
public struct AuditViolation: Sendable, Hashable, CustomStringConvertible {
    public enum Rule: String, Sendable, Hashable, Codable, CaseIterable {
        /// Rule 3: a call carried more than the maximum number of videos.
        case callTooLarge = "call_too_large"
        /// Rule 4: a call carried a count equal to the one last published for that video.
        case unchangedCount = "unchanged_count"
        /// A call carried a count lower than one already published.
        case countDecreased = "count_decreased"
        /// A call's sequence was lower than an earlier call's (only a resend repeats a sequence: the latest one).
        case sequenceBackwards = "sequence_backwards"
        /// A resent call (the latest sequence again) left out a video of the call it repeats, or carried a lower
        /// count for it than that call did.
        case resendRegressed = "resend_regressed"
        /// Rule 1: a realtime play was not visible in the calls made right after its batch was read.
        case realtimeNotPublished = "realtime_not_published"
        /// Rule 2: a play of a video at or over the threshold was not visible within the max staleness.
        case heldPlayStale = "held_play_stale"
        /// A call named a different number of partitions than the run's first call (or named one where that
        /// call named none, or none where it named one): owners of two partitionings cannot be merged.
        case partitionMismatch = "partition_mismatch"
        /// A call of partition k carried a video whose hash puts it in another partition: two owners may count it.
        case wrongPartition = "wrong_partition"
        /// The last published count of a video differs from the plays received for it.
        case finalCountMismatch = "final_count_mismatch"
    }

    public var rule: Rule
    public var sequence: Int?
    public var video: VideoID?
    /// True when no policy could have avoided it (the play was read already past its deadline).
    public var unavoidable: Bool
    /// When the rule was broken: the publish time of the call that broke it, or the deadline a play missed
    /// (nil for a final count, which is checked at the end).
    public var at: WallNanoseconds?
    public var detail: String

    public init(
        rule: Rule, sequence: Int? = nil, video: VideoID? = nil, unavoidable: Bool = false, at: WallNanoseconds? = nil,
        detail: String
    ) {
        self.rule = rule
        self.sequence = sequence
        self.video = video
        self.unavoidable = unavoidable
        self.at = at
        self.detail = detail
    }

    public var description: String {
        var text = rule.rawValue
        if let sequence { text += " call \(sequence)" }
        if let video { text += " video \(video)" }
        text += ": \(detail)"
        if unavoidable { text += " (unavoidable: read late)" }
        return text
    }
}

/// One read batch of valid plays: in arrival order, and grouped by video.
///
/// The policy, the stats and the lower bound each keep per-video state behind a hash lookup; grouping once
/// when the batch is built lets each of them look a video up once per batch instead of once per play (a
/// batch of a few thousand plays usually holds a few dozen videos).
public struct PlayBatch: Sendable {
    /// One video's plays in the batch, in arrival order.
    public struct VideoPlays: Sendable {
        public let video: VideoID
        public fileprivate(set) var plays: [Play]
        /// The earliest queue arrival among `plays`.
        public fileprivate(set) var earliestQueuedAt: WallNanoseconds
    }

    /// Every play, in arrival order.
    public private(set) var plays: [Play] = []
    /// The videos in order of their first play in the batch.
    public private(set) var videos: [VideoPlays] = []
    /// Slot `i` is `videos[i]`: the table hands out slots in the order videos are first seen.
    private var videoIndex = VideoTable<Bool>(initial: false)

    public init() {}

    public init(_ plays: some Sequence<Play>) {
        for play in plays { append(play) }
    }

    public var isEmpty: Bool { plays.isEmpty }
    public var count: Int { plays.count }

    public mutating func append(_ play: Play) {
        plays.append(play)
        let index = videoIndex.slot(of: play.video)
        if index < videos.count {
            videos[index].plays.append(play)
            videos[index].earliestQueuedAt = min(videos[index].earliestQueuedAt, play.queuedAt)
        } else {
            videos.append(VideoPlays(video: play.video, plays: [play], earliestQueuedAt: play.queuedAt))
        }
    }

    /// Appends a later batch's plays, as if they had been appended one by one: one lookup per video of
    /// `other`, not one per play.
    public mutating func append(contentsOf other: PlayBatch) {
        guard !isEmpty else {
            self = other
            return
        }
        plays.append(contentsOf: other.plays)
        for group in other.videos {
            let index = videoIndex.slot(of: group.video)
            if index < videos.count {
                videos[index].plays.append(contentsOf: group.plays)
                videos[index].earliestQueuedAt = min(videos[index].earliestQueuedAt, group.earliestQueuedAt)
            } else {
                videos.append(group)
            }
        }
    }
}

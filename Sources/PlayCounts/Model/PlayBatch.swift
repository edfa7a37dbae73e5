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
    private var videoIndex: [VideoID: Int] = [:]

    public init() {}

    public init(_ plays: some Sequence<Play>) {
        for play in plays { append(play) }
    }

    public var isEmpty: Bool { plays.isEmpty }
    public var count: Int { plays.count }

    public mutating func append(_ play: Play) {
        plays.append(play)
        if let index = videoIndex[play.video] {
            videos[index].plays.append(play)
            videos[index].earliestQueuedAt = min(videos[index].earliestQueuedAt, play.queuedAt)
        } else {
            videoIndex[play.video] = videos.count
            videos.append(VideoPlays(video: play.video, plays: [play], earliestQueuedAt: play.queuedAt))
        }
    }
}

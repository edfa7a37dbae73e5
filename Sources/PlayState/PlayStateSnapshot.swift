import PlayCounts

/// One video's durable state.
public struct StoredVideo: Hashable, Sendable {
    public var video: VideoID
    /// Total plays ever counted.
    public var plays: Int
    /// The count the client was last told (0 if never published).
    public var published: Int
    /// Queue timestamp of the earliest play not yet published; nil when none is pending. The processor derives
    /// the video's publish deadline from it after a restart.
    public var earliestUnpublished: WallNanoseconds?

    public init(video: VideoID, plays: Int, published: Int, earliestUnpublished: WallNanoseconds?) {
        self.video = video
        self.plays = plays
        self.published = published
        self.earliestUnpublished = earliestUnpublished
    }
}

/// Everything the processor needs to resume after a restart.
public struct PlayStateSnapshot: Sendable {
    /// Every video ever counted, in ascending `VideoID` order. An array rather than dictionaries so that
    /// loading a million videos stays cheap; the processor builds the index it needs.
    public var videos: [StoredVideo]
    /// The call that was started but not acknowledged: resend it (same sequence) before anything else.
    public var outbox: PublishCall?
    /// The sequence number for the next new call.
    public var nextSequence: Int

    public init(videos: [StoredVideo], outbox: PublishCall?, nextSequence: Int) {
        self.videos = videos
        self.outbox = outbox
        self.nextSequence = nextSequence
    }

    /// Plays per video (built on each access: O(videos)).
    public var counts: [VideoID: Int] {
        Dictionary(uniqueKeysWithValues: videos.map { ($0.video, $0.plays) })
    }

    /// Last published count per video that was ever published (built on each access: O(videos)).
    public var lastPublished: [VideoID: Int] {
        Dictionary(uniqueKeysWithValues: videos.lazy.filter { $0.published != 0 }.map { ($0.video, $0.published) })
    }

    /// Earliest unpublished play per video that has one (built on each access: O(videos)).
    public var earliestUnpublished: [VideoID: WallNanoseconds] {
        var result: [VideoID: WallNanoseconds] = [:]
        for video in videos {
            if let earliest = video.earliestUnpublished { result[video.video] = earliest }
        }
        return result
    }
}

import PlayCounts

/// Everything the processor needs to resume after a restart.
public struct PlayStateSnapshot: Sendable {
    /// Every video ever counted, in ascending `VideoID` order. An array rather than dictionaries so that
    /// loading a million videos stays cheap; the processor builds the index it needs.
    public var videos: [RestoredVideo]
    /// The call that was started but not acknowledged: resend it (same sequence) before anything else.
    public var outbox: PublishCall?
    /// The sequence number for the next new call.
    public var nextSequence: Int

    public init(videos: [RestoredVideo], outbox: PublishCall?, nextSequence: Int) {
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

/// One video's state as a restarted processor finds it in its state store (see `PublishPolicy.restore`).
public struct RestoredVideo: Sendable, Hashable {
    public var video: VideoID
    /// Every play ever counted.
    public var plays: Int
    /// The count the client was last told (0 if never).
    public var published: Int
    /// Queue timestamp of the earliest play not yet published; nil when unknown or none.
    public var earliestUnpublished: WallNanoseconds?

    public init(video: VideoID, plays: Int, published: Int, earliestUnpublished: WallNanoseconds?) {
        self.video = video
        self.plays = plays
        self.published = published
        self.earliestUnpublished = earliestUnpublished
    }
}

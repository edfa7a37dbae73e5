import PlayCounts

extension PlayStateSnapshot {
    /// The videos as `PlayProcessor.restore(_:pendingCall:nextSequence:)` takes them.
    public var restoredVideos: [RestoredVideo] {
        videos.map {
            RestoredVideo(video: $0.video, plays: $0.plays, published: $0.published, earliestUnpublished: $0.earliestUnpublished)
        }
    }
}

extension PlayProcessor {
    /// Resumes from a state store's snapshot (see `restore(_:pendingCall:nextSequence:)`).
    public func restore(from snapshot: PlayStateSnapshot) {
        restore(snapshot.restoredVideos, pendingCall: snapshot.outbox, nextSequence: snapshot.nextSequence)
    }
}

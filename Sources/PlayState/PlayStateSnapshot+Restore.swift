import PlayCounts

extension PlayProcessor {
    /// Resumes from a state store's snapshot (see `restore(_:pendingCall:nextSequence:)`).
    public func restore(from snapshot: PlayStateSnapshot) {
        restore(snapshot.videos, pendingCall: snapshot.outbox, nextSequence: snapshot.nextSequence)
    }
}

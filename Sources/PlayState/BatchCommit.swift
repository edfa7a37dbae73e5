import PlayCounts

/// Everything one read batch changes, written in one transaction (group commit). Its messages may be FIN'd
/// only after `PlayStateStore.commit(_:)` returned.
public struct BatchCommit: Sendable {
    /// Every message of the batch, counted or dead-lettered alike: none of them is ever counted again.
    public var messages: [MessageKey]
    /// Plays added per video by this batch.
    public var countDeltas: [VideoID: Int]
    /// The queue timestamp of the first unpublished play, only for videos whose first unpublished play is in
    /// this batch. A video that already has one keeps the earlier of the two.
    public var earliestUnpublished: [VideoID: WallNanoseconds]

    public init(
        messages: [MessageKey],
        countDeltas: [VideoID: Int],
        earliestUnpublished: [VideoID: WallNanoseconds] = [:]
    ) {
        self.messages = messages
        self.countDeltas = countDeltas
        self.earliestUnpublished = earliestUnpublished
    }
}

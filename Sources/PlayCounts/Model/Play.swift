/// Nanoseconds since the Unix epoch. NSQ stamps messages in this unit, so the processor keeps all its
/// instants in it: deadlines derive from queue timestamps, and tests drive a simulated clock in the same unit.
public typealias WallNanoseconds = Int64

/// One valid play as the processor received it.
public struct Play: Sendable, Hashable {
    public var video: VideoID
    /// When the play arrived on the queue (the NSQ message timestamp).
    public var queuedAt: WallNanoseconds
    /// When the processor read it off the wire.
    public var receivedAt: WallNanoseconds

    public init(video: VideoID, queuedAt: WallNanoseconds, receivedAt: WallNanoseconds) {
        self.video = video
        self.queuedAt = queuedAt
        self.receivedAt = receivedAt
    }
}

/// A video's total play count as carried in one publish call.
public struct VideoCount: Sendable, Hashable {
    public var video: VideoID
    public var plays: Int

    public init(video: VideoID, plays: Int) {
        self.video = video
        self.plays = plays
    }
}

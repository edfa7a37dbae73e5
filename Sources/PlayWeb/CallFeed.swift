import DequeModule
import Locking

/// One publish call as the web page is told of it: the processor's sequence, its `published_at` (RFC 3339) and
/// the counts it carried, by canonical video id.
public struct WebCall: Sendable, Hashable {
    public var sequence: Int
    public var publishedAt: String
    public var counts: [(video: String, plays: Int)]
    /// The partition whose owner made the call (its sequences are its own); nil for a single processor.
    public var partition: Int?

    public init(sequence: Int, publishedAt: String, counts: [(video: String, plays: Int)], partition: Int? = nil) {
        self.sequence = sequence
        self.publishedAt = publishedAt
        self.counts = counts
        self.partition = partition
    }

    /// The key a call without an `Idempotency-Key` header is deduplicated by: what the processor would send.
    public var defaultIdempotencyKey: String { partition.map { "p\($0)-\(sequence)" } ?? String(sequence) }

    public static func == (lhs: WebCall, rhs: WebCall) -> Bool {
        lhs.sequence == rhs.sequence && lhs.partition == rhs.partition && lhs.publishedAt == rhs.publishedAt
            && lhs.counts.elementsEqual(rhs.counts) { $0.video == $1.video && $0.plays == $1.plays }
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(sequence)
        hasher.combine(publishedAt)
    }
}

/// What the web page shows, and the stream of changes every open page follows: each video's count as the
/// client has been told it, and one event per call, numbered 1, 2, 3, … (the Server-Sent Events `id:`).
///
/// A page that connects late starts from a snapshot (every count, and the id of the last event in it); a page
/// that reconnects with `Last-Event-ID` is sent the events it missed, from the last ``replayLimit`` events, or a
/// snapshot when it missed more. Counts only grow on the page: an event sets a video to the larger of the two
/// counts, so a replayed or merged event can never take a count back.
///
/// A call delivered twice under one idempotency key (a webhook's retry after a lost answer) is counted once: its
/// counts are merged, and an event is sent only if they raised a count.
public final class CallFeed: Sendable {
    /// How many recent events are kept for pages that reconnect.
    public let replayLimit: Int

    private struct VideoState {
        var plays: Int
        var updatedAt: String
    }

    private struct Event {
        var id: Int
        var frame: String
    }

    private struct State {
        var videos: [String: VideoState] = [:]
        var events: Deque<Event> = []
        var lastEventID = 0
        var calls = 0
        /// Idempotency keys seen, oldest first, to forget the oldest past ``keyLimit``.
        var keys: [String: Int] = [:]
        var keyOrder: Deque<String> = []
        var subscribers: [Int: AsyncStream<String>.Continuation] = [:]
        var nextSubscriber = 0
        var closed = false
        /// Videos below this count are shown as realtime (the processor's realtime threshold).
        var realtimeThreshold: Int
    }

    private let state: Locked<State>
    private static let keyLimit = 100_000

    public init(realtimeThreshold: Int = 100, replayLimit: Int = 4096) {
        self.state = Locked(State(realtimeThreshold: realtimeThreshold))
        self.replayLimit = max(1, replayLimit)
    }

    /// Videos below this count are shown as realtime; set from the processor's realtime threshold at each start.
    public var realtimeThreshold: Int {
        get { state.withLock { $0.realtimeThreshold } }
        set { state.withLock { $0.realtimeThreshold = newValue } }
    }

    /// Takes one call and pushes it to every open page; returns false for a repeated idempotency key whose
    /// counts changed nothing.
    @discardableResult
    public func append(_ call: WebCall, idempotencyKey: String? = nil) -> Bool {
        // Streams closed for falling behind are finished outside the lock (finishing runs their termination
        // handler, which takes the lock).
        var fellBehind: [AsyncStream<String>.Continuation] = []
        defer { for subscriber in fellBehind { subscriber.finish() } }
        return state.withLock { state -> Bool in
            guard !state.closed else { return false }
            var raised: [(video: String, plays: Int)] = []
            for (video, plays) in call.counts {
                if let known = state.videos[video], known.plays >= plays { continue }
                state.videos[video] = VideoState(plays: plays, updatedAt: call.publishedAt)
                raised.append((video, plays))
            }
            let repeated = idempotencyKey.map { state.keys[$0] != nil } ?? false
            if repeated, raised.isEmpty { return false }
            if let key = idempotencyKey, !repeated {
                state.keys[key] = call.sequence
                state.keyOrder.append(key)
                if state.keyOrder.count > Self.keyLimit, let oldest = state.keyOrder.popFirst() {
                    state.keys[oldest] = nil
                }
            }
            if !repeated { state.calls += 1 }
            state.lastEventID += 1
            let shown = WebCall(sequence: call.sequence, publishedAt: call.publishedAt, counts: repeated ? raised : call.counts)
            let frame = Self.frame(id: state.lastEventID, event: "call", data: Self.callJSON(shown, calls: state.calls))
            state.events.append(Event(id: state.lastEventID, frame: frame))
            if state.events.count > replayLimit { state.events.removeFirst() }
            for (id, subscriber) in state.subscribers {
                if case .dropped = subscriber.yield(frame) {
                    // A page too slow to keep up: close its stream; it reconnects and catches up.
                    fellBehind.append(subscriber)
                    state.subscribers[id] = nil
                }
            }
            return true
        }
    }

    /// The frames a page starts with (the events it missed, or a snapshot), and the stream of the ones to come.
    /// The stream ends when the page goes (`onTermination`), when it falls too far behind, or at ``close()``.
    public func subscribe(lastEventID: Int?) -> (initial: [String], updates: AsyncStream<String>) {
        let (updates, continuation) = AsyncStream.makeStream(of: String.self, bufferingPolicy: .bufferingOldest(8192))
        let initial = state.withLock { state -> [String] in
            let initial: [String]
            if let lastEventID, lastEventID <= state.lastEventID,
                lastEventID >= (state.events.first?.id ?? state.lastEventID + 1) - 1
            {
                initial = state.events.filter { $0.id > lastEventID }.map(\.frame)
            } else {
                initial = [Self.frame(id: state.lastEventID, event: "snapshot", data: Self.snapshotJSON(state))]
            }
            if state.closed {
                continuation.finish()
            } else {
                let id = state.nextSubscriber
                state.nextSubscriber += 1
                state.subscribers[id] = continuation
                continuation.onTermination = { [weak self] _ in
                    self?.state.withLock { _ = $0.subscribers.removeValue(forKey: id) }
                }
            }
            return initial
        }
        return (initial, updates)
    }

    /// Every count, as `GET /snapshot` and a late page's first event carry it.
    public func snapshotJSON() -> String {
        state.withLock { Self.snapshotJSON($0) }
    }

    /// Calls taken so far (a repeated idempotency key counts once).
    public var calls: Int { state.withLock { $0.calls } }

    /// Pages following the feed now.
    public var subscriberCount: Int { state.withLock { $0.subscribers.count } }

    /// Ends every page's stream (the server is stopping); later calls are ignored.
    public func close() {
        let subscribers = state.withLock { state -> [AsyncStream<String>.Continuation] in
            state.closed = true
            defer { state.subscribers = [:] }
            return Array(state.subscribers.values)
        }
        for subscriber in subscribers { subscriber.finish() }
    }

    // MARK: Encoding

    static func frame(id: Int, event: String, data: String) -> String {
        "id: \(id)\nevent: \(event)\ndata: \(data)\n\n"
    }

    private static func callJSON(_ call: WebCall, calls: Int) -> String {
        var text = #"{"sequence": \#(call.sequence), "published_at": "\#(escaped(call.publishedAt))", "calls": \#(calls), "counts": {"#
        for (position, count) in call.counts.enumerated() {
            if position > 0 { text += ", " }
            text += #""\#(escaped(count.video))": \#(count.plays)"#
        }
        return text + "}}"
    }

    private static func snapshotJSON(_ state: State) -> String {
        var text = #"{"last_event_id": \#(state.lastEventID), "calls": \#(state.calls), "realtime_threshold": \#(state.realtimeThreshold), "videos": {"#
        for (position, (video, shown)) in state.videos.enumerated() {
            if position > 0 { text += ", " }
            text += #""\#(escaped(video))": [\#(shown.plays), "\#(escaped(shown.updatedAt))"]"#
        }
        return text + "}}"
    }

    /// Video ids and timestamps are checked on the way in; this only keeps JSON valid whatever they hold.
    private static func escaped(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") || $0 < 0x20 }) else {
            return text
        }
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}

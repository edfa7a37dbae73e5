import PlayCounts

/// `client web`: each call goes to the ``CallFeed`` the web page follows, one push to every open page whatever
/// their number. Never refuses a call, never waits for a browser.
public struct WebPublishClient: PublishClient {
    public let feed: CallFeed
    /// Where the page is, e.g. `http://127.0.0.1:8080/`.
    public let pageURL: String

    public init(feed: CallFeed, pageURL: String) {
        self.feed = feed
        self.pageURL = pageURL
    }

    public var description: String { "web \(pageURL)" }

    public func publish(_ call: PublishCall) async throws {
        feed.append(WebCall(call))
    }
}

extension WebCall {
    /// The call as the processor made it.
    public init(_ call: PublishCall) {
        self.init(
            sequence: call.sequence, publishedAt: RFC3339.format(call.publishedAt),
            counts: call.counts.map { ($0.video.description, $0.plays) }, partition: call.partition?.index)
    }
}

import Foundation
import HTTPTypes
import Hummingbird
import PlayCounts
import ServiceLifecycle

/// The web page's routes, on a Hummingbird router:
/// - `GET /`: the page (HTML, CSS and JS in one document, from the binary: no CDN, works offline);
/// - `GET /events`: Server-Sent Events, one per call (`id:` the event's number; `Last-Event-ID` resumes);
/// - `GET /snapshot`: every count as JSON;
/// - `POST /calls` (``add(to:feed:acceptsCalls:)`` with `acceptsCalls`): a webhook receiver, deduplicating by
///   `Idempotency-Key`, for the page served apart from the processor (`playcount-web`).
public enum WebRoutes {
    public static func add(to router: Router<BasicRequestContext>, feed: CallFeed, acceptsCalls: Bool = false) {
        router.get("/") { _, _ -> Response in
            Response(
                status: .ok, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-cache"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: WebPage.html)))
        }
        router.get("snapshot") { _, _ -> Response in
            Response(
                status: .ok, headers: [.contentType: "application/json", .cacheControl: "no-cache"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: feed.snapshotJSON() + "\n")))
        }
        router.get("events") { request, _ -> Response in
            // The browser's own reconnection sends Last-Event-ID; the page's `reconnect()` the query parameter.
            let lastEventID = request.headers[lastEventIDField].flatMap { Int($0.trimmingCharacters(in: .whitespaces)) }
                ?? request.uri.queryParameters.get("last_event_id", as: Int.self)
            let (initial, updates) = feed.subscribe(lastEventID: lastEventID)
            return Response(
                status: .ok,
                headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"],
                body: ResponseBody { writer in
                    // Reconnect quickly when the stream ends (a restart, a page that fell behind).
                    try await writer.write(ByteBuffer(string: "retry: 500\n\n"))
                    for frame in initial { try await writer.write(ByteBuffer(string: frame)) }
                    for await frame in updates.cancelOnGracefulShutdown() {
                        try await writer.write(ByteBuffer(string: frame))
                    }
                    try await writer.finish(nil)
                })
        }
        if acceptsCalls {
            router.post("calls") { request, _ -> Response in
                var request = request
                let body: ByteBuffer
                do {
                    body = try await request.body.collect(upTo: 4 * 1024 * 1024)
                } catch {
                    return problem(.contentTooLarge, "the body is over 4 MiB")
                }
                let call: WebCall
                do {
                    call = try WebCallDecoder.decode(Data(buffer: body))
                } catch {
                    return problem(.badRequest, "\(error)")
                }
                let key = request.headers[idempotencyKeyField] ?? call.defaultIdempotencyKey
                let applied = feed.append(call, idempotencyKey: key)
                return Response(
                    status: .ok, headers: [.contentType: "application/json"],
                    body: ResponseBody(byteBuffer: ByteBuffer(string: #"{"ok": true, "duplicate": \#(!applied)}"# + "\n")))
            }
        }
    }

    private static let lastEventIDField = HTTPField.Name("Last-Event-ID")!
    private static let idempotencyKeyField = HTTPField.Name("Idempotency-Key")!

    private static func problem(_ status: HTTPResponse.Status, _ message: String) -> Response {
        let escaped = message.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
        return Response(
            status: status, headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: #"{"error": "\#(escaped)"}"# + "\n")))
    }
}

/// Reads a webhook call's body: `{"sequence": 7, "published_at": "…", "counts": {"<video_id>": 120, …}}`.
enum WebCallDecoder {
    struct Invalid: Error, CustomStringConvertible {
        var description: String
    }

    private struct Body: Decodable {
        var sequence: Int
        var partition: Int?
        var published_at: String
        var counts: [String: Int]
    }

    static func decode(_ data: some Collection<UInt8>) throws -> WebCall {
        let body: Body
        do {
            body = try JSONDecoder().decode(Body.self, from: Data(data))
        } catch {
            throw Invalid(description: "not a call: expected {\"sequence\", \"published_at\", \"counts\"}")
        }
        guard RFC3339.parse(body.published_at) != nil else {
            throw Invalid(description: "published_at is not an RFC 3339 time: \(body.published_at)")
        }
        var counts: [(video: String, plays: Int)] = []
        counts.reserveCapacity(body.counts.count)
        for (video, plays) in body.counts.sorted(by: { $0.key < $1.key }) {
            guard let id = VideoID(video) else { throw Invalid(description: "not a video id: \(video)") }
            guard plays >= 0 else { throw Invalid(description: "a negative count for \(video)") }
            counts.append((id.description, plays))
        }
        return WebCall(sequence: body.sequence, publishedAt: body.published_at, counts: counts, partition: body.partition)
    }
}

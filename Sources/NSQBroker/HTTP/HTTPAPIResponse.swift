import NIOCore
import NIOHTTP1

/// An HTTP answer of the API with nsqd's exact header set and order.
struct HTTPAPIResponse {
    enum Style {
        /// `http_api.PlainText` (`/ping`): Date, Content-Length, Content-Type text/plain.
        case plainText
        /// `http_api.V1` with a string body: X-Nsq-Content-Type, Date, Content-Length, Content-Type text/plain.
        case v1Text
        /// `http_api.V1` with a JSON body (and every error): Content-Type JSON, X-Nsq-Content-Type, Date, Content-Length.
        case v1JSON
        /// `http_api.V1` with no body: X-Nsq-Content-Type, Date, Content-Length 0.
        case v1Empty
    }

    var status: HTTPResponseStatus
    var style: Style
    var body: String

    static func ok(_ text: String = "OK") -> Self { .init(status: .ok, style: .v1Text, body: text) }
    static func json(_ json: String) -> Self { .init(status: .ok, style: .v1JSON, body: json) }
    static let empty = Self(status: .ok, style: .v1Empty, body: "")
    static func error(_ status: HTTPResponseStatus, _ message: String) -> Self {
        .init(status: status, style: .v1JSON, body: "{\"message\":\(GoJSON.string(message))}")
    }

    func headers() -> HTTPHeaders {
        let length = "\(body.utf8.count)"
        let date = HTTPDate.now()
        let nsq = ("X-Nsq-Content-Type", "nsq; version=1.0")
        let text = ("Content-Type", "text/plain; charset=utf-8")
        let json = ("Content-Type", "application/json; charset=utf-8")
        switch style {
        case .plainText:
            return HTTPHeaders([("Date", date), ("Content-Length", length), text])
        case .v1Text:
            return HTTPHeaders([nsq, ("Date", date), ("Content-Length", length), text])
        case .v1JSON:
            return HTTPHeaders([json, nsq, ("Date", date), ("Content-Length", length)])
        case .v1Empty:
            return HTTPHeaders([nsq, ("Date", date), ("Content-Length", "0")])
        }
    }
}

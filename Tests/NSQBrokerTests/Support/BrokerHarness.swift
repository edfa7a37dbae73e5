import NIOCore
import NIOPosix
@testable import NSQBroker

/// Starts an in-process broker on free loopback ports for one test and stops it afterwards.
func withBroker<T>(
    _ configure: (inout NSQBrokerConfiguration) -> Void = { _ in },
    _ body: (NSQBroker, _ tcpPort: Int, _ httpPort: Int) async throws -> T
) async throws -> T {
    var configuration = NSQBrokerConfiguration(host: "127.0.0.1", tcpPort: 0, httpPort: 0)
    configure(&configuration)
    let broker = NSQBroker(configuration: configuration)
    try await broker.start()
    do {
        let result = try await body(broker, broker.tcpPort ?? 0, broker.httpPort ?? 0)
        try await broker.stop()
        return result
    } catch {
        try? await broker.stop()
        throw error
    }
}

/// Waits until `condition` holds, polling, or fails after `timeout`.
func eventually(
    timeout: Duration = .seconds(5), _ what: String = "condition", _ condition: () async throws -> Bool
) async throws {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(10))
    }
    throw TestSocket.Failure.timeout(what)
}

extension Array where Element == UInt8 {
    init(_ text: String) { self = Array(text.utf8) }
}

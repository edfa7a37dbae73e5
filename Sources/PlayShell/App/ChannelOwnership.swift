import NSQ
import ShellKit

/// One processor per channel: a second consumer on a processor's channel would take half its messages and
/// publish partial counts as totals, so `start` and `serve` look for one first (issue 12).
///
/// nsqd's `/stats` lists the channel's clients on every nsqd that has the topic: the embedded broker's own,
/// the `nsqd-http-address` setting's, or those nsqlookupd lists. Two processors starting in the same instant
/// can both find the channel free; this guards the common mistakes (a second `serve`, a processor on the
/// routers' channel), not a race. `route` is not checked: routers share their channel by design.
enum ChannelOwnership {
    /// The consumers already on `topic`/`channel`, each with the nsqd that reported it.
    struct Finding: Sendable {
        var nsqd: String
        var client: NSQChannelClient
    }

    /// How long a consumer must stay on the channel to be refused: nsqd drops a closed connection within
    /// milliseconds, so a processor stopped (or killed) just before this one started is not mistaken for a rival.
    static let settleTime: Duration = .seconds(1)

    /// Throws, naming the consumers, when the processor's channel has one; nil when it is free, or a notice
    /// to log when no nsqd HTTP API is known to ask.
    static func check(topic: String, channel: String, target: PlaycountApp.Target, in shell: ShellContext) async throws -> String? {
        if shell.settings[.sharedChannel] { return nil }
        let clock = ContinuousClock()
        let giveUp = clock.now + settleTime
        while true {
            switch try await consumers(topic: topic, channel: channel, target: target, in: shell) {
            case .unknown(let notice):
                return notice
            case .found(let findings) where !findings.isEmpty:
                guard clock.now < giveUp else { throw ShellError(refusal(topic: topic, channel: channel, findings: findings)) }
                try await Task.sleep(for: .milliseconds(50))
            case .found:
                return nil
            }
        }
    }

    enum Lookup {
        case found([Finding])
        /// No nsqd could be asked; the notice says why.
        case unknown(String)
    }

    private static func consumers(topic: String, channel: String, target: PlaycountApp.Target, in shell: ShellContext) async throws -> Lookup {
        var findings: [Finding] = []
        if let embedded = target.embedded {
            let stats = await embedded.stats()
            let clients = stats.topics.first { $0.name == topic }?.channels.first { $0.name == channel }?.clients ?? []
            findings = clients.map {
                Finding(nsqd: "the embedded broker", client: NSQChannelClient(
                    clientID: $0.clientID, hostname: $0.hostname, remoteAddress: $0.remoteAddress, userAgent: $0.userAgent))
            }
        } else {
            var addresses = addressList(shell.settings[.nsqdHTTPAddress])
            if addresses.isEmpty {
                for lookupd in target.lookupdHTTPAddresses {
                    do {
                        addresses += try await NSQDHTTPAPI.producerHTTPAddresses(topic: topic, lookupdHTTPAddress: lookupd)
                    } catch {
                        return .unknown("cannot check that \(topic)/\(channel) has no other consumer: lookupd \(lookupd): \(error)")
                    }
                }
                if target.lookupdHTTPAddresses.isEmpty {
                    return .unknown("cannot check that \(topic)/\(channel) has no other consumer: set nsqd-http-address "
                        + "(or lookupd-http-address) so that its /stats can be read")
                }
            }
            for address in Set(addresses).sorted() {
                do {
                    let clients = try await NSQDHTTPAPI.channelClients(
                        topic: topic, channel: channel, nsqdHTTPAddress: address, timeout: .seconds(5))
                    findings += clients.map { Finding(nsqd: "nsqd \(address)", client: $0) }
                } catch {
                    return .unknown("cannot check that \(topic)/\(channel) has no other consumer: nsqd \(address): \(error)")
                }
            }
        }
        return .found(findings)
    }

    static func refusal(topic: String, channel: String, findings: [Finding]) -> String {
        let named = findings.map { "\($0.client) on \($0.nsqd)" }.joined(separator: "; ")
        return """
            \(topic)/\(channel) already has a consumer: \(named). A second processor on one channel would \
            take part of its messages and publish partial counts as totals. Stop that consumer, use another \
            channel, or set shared-channel=true if you mean it (a crashed processor's connection is dropped \
            by nsqd within its heartbeat timeout).
            """
    }
}

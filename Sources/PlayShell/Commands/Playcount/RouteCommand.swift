import ArgumentParser
import Foundation
import NSQ
import PlayCounts
import PlayService
import ShellKit

/// `route`: the headless router of a partitioned deployment (see README "Scaling out").
struct RouteCommand: ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "route",
        abstract: "Route plays from <topic> to the partition topics <topic>.p0 … <topic>.p<K-1> until SIGTERM or SIGINT.",
        discussion: """
            Reads the topic on the channel (any number of routers may share it: nsqd spreads the messages), \
            and republishes each play, with MPUB, to its partition's topic on the nsqd it was read from (or \
            on route-nsqd-tcp-address, e.g. the router host's own nsqd); K is the partitions setting. A play's partition is a stable hash of its video id (see 'Scaling out' in \
            the README). Each copy carries the original's queue time, id and attempts, so the owner's \
            deadlines run from the play's first arrival and a router crash's redelivery is counted once. An \
            original is FIN'd only once nsqd acknowledged its copy's MPUB. Invalid messages go to the \
            dead-letter topic. SIGTERM or SIGINT stops it gracefully (CLS, settle what is in flight); exit 0.
              playcount --lookupd-http-address 127.0.0.1:4161 --set partitions=3 -c route
            """)

    static var endsOnInterrupt: Bool { true }

    func run(in shell: ShellContext) async throws {
        if shell.app.session != nil { throw ShellError("the processor is running in this shell; a router runs on its own") }
        let settings = shell.settings
        let partitions = settings[.partitions]
        guard settings.ownedPartition == nil else {
            throw ShellError("partition is set (\(settings[.partition])): a router reads <topic>, not a partition; unset it")
        }
        let topic = settings[.topic]
        let widest = Partition(index: partitions - 1, count: partitions)!.topic(of: topic)
        guard NSQProtocol.isValidName(widest) else {
            throw ShellError("the partition topic '\(widest)' is not a valid NSQ topic name (at most 64 of [.a-zA-Z0-9_-])")
        }
        let target = try await shell.app.target(in: shell)
        var consumer = NSQConsumerConfiguration(
            topic: topic, channel: settings[.channel],
            nsqdTCPAddresses: target.nsqdTCPAddresses, lookupdHTTPAddresses: target.lookupdHTTPAddresses,
            maxInFlight: settings[.maxInFlight], userAgent: "playcount-route/1.0",
            messageTimeout: settings[.msgTimeout].duration,
            outputBuffering: settings[.outputBuffer].fixedBuffering ?? .unbuffered)
        if settings[.outputBuffer] == .adaptive, let catchUp = settings[.catchUpBuffer].fixedBuffering {
            consumer.catchUp = NSQConsumerConfiguration.CatchUp(outputBuffering: catchUp)
        }
        consumer.lookupdPollInterval = .seconds(15)
        let deadLetterTopic = settings[.deadLetterTopic].isEmpty ? topic + ".dead" : settings[.deadLetterTopic]
        guard NSQProtocol.isValidName(deadLetterTopic) else {
            throw ShellError("dead-letter-topic: '\(deadLetterTopic)' is not a valid NSQ topic name; set dead-letter-topic")
        }
        let app = shell.app
        let fixedDestination = addressList(settings[.routeNsqdTCPAddress]).first
        let deadLetters = DeadLetterSink(topic: deadLetterTopic) { [shell] in
            try await app.producer(for: topic, in: shell)
        }
        var configuration = PlayRouter.Configuration(
            consumer: consumer, partitions: partitions, deadLetters: deadLetters, logger: shell.logger,
            producer: { app.producer(at: fixedDestination ?? $0) })
        // Behind --http-address: /metrics shows the router's counters (the operations server bootstrapped the backend).
        if app.http.metrics != nil { configuration.metrics = RouterMetrics(partitions: partitions) }
        let router = PlayRouter(configuration)
        try app.setRouter(router)
        app.installTerminationHandler(in: shell)
        shell.logger.notice(
            "routing \(topic)/\(settings[.channel]) to \(topic).p0 … \(topic).p\(partitions - 1); SIGTERM or SIGINT stops",
            metadata: ["topic": "\(topic)", "channel": "\(settings[.channel])", "partitions": "\(partitions)"])
        // SIGINT cancels this task. The router runs in a task of its own, which the cancellation does not reach
        // (a cancelled one would cut the settling short): the cancellation asks it to stop gracefully instead.
        let running = Task { try await router.run() }
        try await withTaskCancellationHandler {
            try await running.value
        } onCancel: {
            Task { await router.stop() }
        }
        app.clearRouter(router)
        let counters = router.counters
        shell.logger.notice(
            "router stopped: \(counters.messages) messages, \(counters.routed) routed, \(counters.deadLettered) dead-lettered, \(counters.requeued) requeued")
    }
}

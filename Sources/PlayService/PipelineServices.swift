import Logging
import NSQ
import PlayCounts
import ServiceLifecycle

extension PlayPipeline {
    /// The pipeline's parts as services, in start order. A `ServiceGroup` shuts them down gracefully in reverse
    /// order, each once the one after it has returned, which is the order a stop must take:
    /// 1. the consumer: CLS on every connection, in-flight messages settled, connections closed;
    /// 2. ingest: what was read is committed, FIN'd and counted (it ends when the consumer's deliveries do);
    /// 3. dead letters of messages the consumer gave up on (they end with the consumer too);
    /// 4. the publisher: the processor's timer loop ends and everything held is published;
    /// 5. the client: released once nothing will call it again.
    /// A service that returned before its turn would make the group cancel the rest, so ingest and dead letters,
    /// whose work ends with the consumer's, return only once their own turn has come too. A consumer that
    /// returns on its own (it could not run) shuts the group down gracefully.
    var services: [ServiceGroupConfiguration.ServiceConfiguration] {
        [
            .init(service: ClientService(client: client), serviceName: "client"),
            .init(service: PublisherService(processor: processor), serviceName: "publisher"),
            .init(service: DeadLetterService(pipeline: self), serviceName: "dead-letters"),
            .init(service: IngestService(pipeline: self), serviceName: "ingest"),
            .init(
                service: ConsumerService(pipeline: self), successTerminationBehavior: .gracefullyShutdownGroup,
                serviceName: "consumer"),
        ]
    }
}

/// The NSQ consumer: connects, subscribes and delivers until a graceful shutdown, which stops it the way nsqd
/// expects (CLS, in-flight messages settled by ingest meanwhile, then close). Its end ends every delivery.
struct ConsumerService: Service {
    let pipeline: PlayPipeline

    func run() async {
        let consumer = pipeline.consumer
        do {
            try await withGracefulShutdownHandler {
                try await consumer.run()
            } onGracefulShutdown: {
                Task { await consumer.stop() }
            }
        } catch {
            pipeline.logger.error("consumer stopped: \(error)")
        }
        // Every connection is closed: no delivery can follow.
        pipeline.inbox.finish()
        pipeline.giveUpContinuation.finish()
    }
}

/// Ingest: dedupe, parse, dead-letter, commit, FIN, and hand the plays to the processor. Its work ends once the
/// consumer's deliveries are finished and processed; it returns once its turn to shut down has come too.
struct IngestService: Service {
    let pipeline: PlayPipeline

    func run() async {
        await pipeline.ingest()
        try? await gracefulShutdown()
    }
}

/// Dead letters for the messages the consumer gave up on (past max attempts); its work ends with the consumer.
struct DeadLetterService: Service {
    let pipeline: PlayPipeline

    func run() async {
        await pipeline.deadLetterGiveUps()
        try? await gracefulShutdown()
    }
}

/// The processor's timer loop (deadlines, retries). At a graceful shutdown it publishes everything still held
/// and returns once the client accepted it; cancelled, it gives up on a client that keeps failing.
struct PublisherService: Service {
    let processor: PlayProcessor

    func run() async {
        async let timers: Void = processor.run()
        try? await gracefulShutdown()
        await processor.stop()
        await timers
    }
}

/// The client: nothing to run, but what it holds (a connection, a file) is released once every call is made.
struct ClientService: Service {
    let client: any PublishClient

    func run() async {
        try? await gracefulShutdown()
        await client.shutdown()
    }
}

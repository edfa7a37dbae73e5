import NSQ
import PlayCounts

/// One run of the processor (`start` … `stop`): an NSQ consumer feeding the `PlayProcessor`, which publishes
/// to the client. Messages are FIN'd only after the processor has taken their batch.
final class ProcessorSession: Sendable {
    struct Configuration: Sendable {
        var consumer: NSQConsumerConfiguration
        var processor: PlayProcessorConfiguration
        var client: any PublishClient
        var receiptFile: ReceiptLogFile?
        var warn: @Sendable (String) -> Void
    }

    let consumer: NSQConsumer
    let processor: PlayProcessor
    let client: RecordingPublishClient
    let receipts: ReceiptRecorder
    let configuration: PlayProcessorConfiguration
    private let inbox = DeliveryInbox()
    private let parser = PlayMessageParser()
    private let clock = SystemWallClock()
    private let warn: @Sendable (String) -> Void
    private let invalidReports = Locked(0)
    private let busy = Locked(false)
    private let tasks = Locked<(run: Task<Void, Never>, processing: Task<Void, Never>)?>(nil)

    init(_ configuration: Configuration) {
        self.consumer = NSQConsumer(configuration: configuration.consumer)
        self.client = RecordingPublishClient(configuration.client)
        self.processor = PlayProcessor(client: client, configuration: configuration.processor)
        self.receipts = ReceiptRecorder(file: configuration.receiptFile)
        self.configuration = configuration.processor
        self.warn = configuration.warn
    }

    /// Connects and starts processing in the background; returns at once.
    func start() {
        let processing = Task { await self.processDeliveries() }
        let run = Task { [self] in
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    do {
                        try await self.consumer.run()
                    } catch {
                        self.warn("consumer stopped: \(error)")
                    }
                }
                group.addTask {
                    for await delivery in self.consumer.deliveries { self.inbox.append(delivery) }
                    self.inbox.finish()
                }
                // The processor's timer loop ends only through stop(); the others end with the consumer.
                group.addTask { await self.processor.run() }
            }
        }
        tasks.withLock { $0 = (run, processing) }
    }

    /// Graceful stop: CLS and settle in-flight messages, process what was read, publish everything held.
    func stop() async {
        await consumer.stop()
        guard let tasks = tasks.current else { return }
        await tasks.processing.value  // ends once the consumer's deliveries are finished and processed
        await processor.stop()
        await tasks.run.value
        receipts.close()
    }

    /// True while a batch is being processed or deliveries wait for it.
    var isProcessing: Bool { busy.current || inbox.pendingCount > 0 }

    private func processDeliveries() async {
        var batchNumber = 0
        while let deliveries = await inbox.takeAll() {
            busy.withLock { $0 = true }
            let now = clock.now()
            var plays: [Play] = []
            var invalid = 0
            for delivery in deliveries {
                for message in delivery.messages {
                    switch parser.parse(message.body) {
                    case .success(let video):
                        plays.append(Play(video: video, queuedAt: message.timestamp, receivedAt: now))
                    case .failure(let rejection):
                        invalid += 1
                        reportInvalid(message, rejection)
                    }
                }
            }
            batchNumber += 1
            receipts.record(plays, batch: batchNumber)
            // Counted: acknowledge the batch so nsqd sends more while the calls go out; what arrives
            // meanwhile is read together into the next batch.
            await processor.accept(plays, invalidMessages: invalid)
            for delivery in deliveries { delivery.finishAll() }
            await processor.publishPending()
            busy.withLock { $0 = false }
        }
    }

    /// Reports the first few invalid messages, then every 1000th, so garbage cannot flood the terminal.
    private func reportInvalid(_ message: NSQMessage, _ rejection: PlayMessageRejection) {
        let seen = invalidReports.withLock { count -> Int in
            count += 1
            return count
        }
        guard seen <= 5 || seen % 1000 == 0 else { return }
        warn("invalid message \(message.id) (\(seen) so far): \(rejection)")
    }
}

import NSQ
import Locking

/// Collects the consumer's deliveries while the processor is busy, so that everything read in the meantime
/// is handed over as one batch: "plays already read together may share one call". No timer is involved:
/// an idle processor takes each delivery the moment it arrives.
final class DeliveryInbox: Sendable {
    private struct State {
        var pending: [NSQDelivery] = []
        var waiter: CheckedContinuation<[NSQDelivery]?, Never>?
        var finished = false
    }

    private let state = Locked(State())

    /// Adds a delivery; wakes the processor if it is waiting.
    func append(_ delivery: NSQDelivery) {
        let waiter = state.withLock { state -> CheckedContinuation<[NSQDelivery]?, Never>? in
            guard let waiter = state.waiter else {
                state.pending.append(delivery)
                return nil
            }
            state.waiter = nil
            return waiter
        }
        waiter?.resume(returning: [delivery])
    }

    /// No more deliveries will come; a waiting or later `takeAll` returns what is left, then nil.
    func finish() {
        let waiter = state.withLock { state -> CheckedContinuation<[NSQDelivery]?, Never>? in
            state.finished = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: nil)
    }

    /// Everything that arrived since the last call, waiting for at least one delivery; nil once finished
    /// and empty. A cancelled wait returns what arrived by then (possibly nothing).
    func takeAll() async -> [NSQDelivery]? {
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let ready = state.withLock { state -> [NSQDelivery]?? in
                    if !state.pending.isEmpty {
                        defer { state.pending = [] }
                        return .some(state.pending)
                    }
                    if state.finished { return .some(nil) }
                    if Task.isCancelled { return .some([]) }
                    state.waiter = continuation
                    return .none
                }
                if let ready { continuation.resume(returning: ready) }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<[NSQDelivery]?, Never>? in
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume(returning: [])
        }
    }

    /// ``takeAll()``, but waiting at most `timeout`: empty when nothing arrived in time.
    func takeAll(waitingAtMost timeout: Duration) async -> [NSQDelivery]? {
        await withTaskGroup(of: [NSQDelivery]??.self) { group in
            group.addTask { .some(await self.takeAll()) }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return .none
            }
            // Whichever ends first cancels the other; a take cancelled as deliveries arrived still returns them.
            var taken: [NSQDelivery]? = []
            for await result in group {
                group.cancelAll()
                if case .some(let deliveries) = result {
                    if let deliveries { taken?.append(contentsOf: deliveries) } else if taken?.isEmpty == true { taken = nil }
                }
            }
            return taken
        }
    }

    /// Deliveries waiting to be processed.
    var pendingCount: Int { state.withLock { $0.pending.count } }
}

import NSQ

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
    /// and empty.
    func takeAll() async -> [NSQDelivery]? {
        await withCheckedContinuation { continuation in
            let ready = state.withLock { state -> [NSQDelivery]?? in
                if !state.pending.isEmpty {
                    defer { state.pending = [] }
                    return .some(state.pending)
                }
                if state.finished { return .some(nil) }
                state.waiter = continuation
                return .none
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }

    /// Deliveries waiting to be processed.
    var pendingCount: Int { state.withLock { $0.pending.count } }
}

import PlayCounts

/// The `CallJournal` of a processor backed by a `PlayStateStore`: a call becomes the store's outbox before it
/// is attempted and is recorded as published once the client accepted it.
public struct StoreCallJournal: CallJournal {
    public let store: PlayStateStore

    public init(store: PlayStateStore) {
        self.store = store
    }

    public func callStarted(_ call: PublishCall) throws {
        try store.recordCallStarted(call)
    }

    public func callAcknowledged(_ call: PublishCall) throws {
        try store.recordCallAcknowledged(call)
    }
}

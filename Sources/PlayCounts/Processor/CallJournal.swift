/// Where a `PlayProcessor` records its publish calls durably (the state store's outbox), so that a restarted
/// processor resends a call that was made but not acknowledged, with the same sequence number.
///
/// Both methods are called from the processor's actor and may block for the time of one small write;
/// never call them from an event loop.
public protocol CallJournal: Sendable {
    /// `call` is about to be attempted (first attempt or a retry). If this throws, the attempt is not made
    /// and is retried later like a refused call.
    func callStarted(_ call: PublishCall) throws
    /// The client accepted `call`. If this throws, the processor goes on (a restart would resend the call,
    /// which the client sees as a repeat of the same sequence number).
    func callAcknowledged(_ call: PublishCall) throws
}

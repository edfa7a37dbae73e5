/// What a processor run did besides counting: messages dead-lettered and redeliveries of messages already
/// counted, which were acknowledged without counting them again.
public struct SessionCounters: Sendable, Encodable {
    /// Messages published to the dead-letter topic (invalid, or past the consumer's max attempts).
    public var deadLettered = 0
    /// Of those, messages the consumer gave up on after too many attempts.
    public var gaveUp = 0
    /// Redelivered messages found already committed in the state store: FIN'd, not counted again.
    public var duplicatesSkipped = 0
    /// Batches whose commit to the state store failed (their messages were requeued).
    public var commitFailures = 0
    /// Dead letters that could not be published (their messages were requeued, or lost for give-ups).
    public var deadLetterFailures = 0

    public enum CodingKeys: String, CodingKey {
        case deadLettered = "dead_lettered"
        case gaveUp = "gave_up"
        case duplicatesSkipped = "duplicates_skipped"
        case commitFailures = "commit_failures"
        case deadLetterFailures = "dead_letter_failures"
    }
}

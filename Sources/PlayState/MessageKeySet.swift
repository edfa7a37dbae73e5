import DenseTables

/// A set of `MessageKey`s in insertion order (see ``DenseTable``): every play's key is inserted once, so this is
/// the hottest structure of a `:memory:` store. Message ids are assigned by nsqd, not chosen by producers; the
/// seeds are random all the same.
typealias MessageKeySet = DenseTable<MessageKey, Void>

extension MessageKey: DenseTableKey {
    public var denseTableWords: (UInt64, UInt64) { (idHigh ^ UInt64(bitPattern: timestamp), idLow) }
}

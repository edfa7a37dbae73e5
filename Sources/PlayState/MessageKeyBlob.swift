import PlayCounts

/// A chunk of committed message keys as one blob (`UInt64Triples`: id high, id low, timestamp), in commit
/// order. One row per commit instead of one per message: SQLite's cost per row (the VDBE program, the b-tree
/// insert) was most of a state file's commit.
enum MessageKeyBlob {
    static let bytesPerKey = UInt64Triples.bytesPerEntry

    static func encode(_ keys: [MessageKey]) -> [UInt8] {
        UInt64Triples.encode(count: keys.count) { index in
            let key = keys[index]
            return (key.idHigh, key.idLow, UInt64(bitPattern: key.timestamp))
        }
    }

    /// Nil when the blob's length is not a whole number of keys.
    static func decode(_ bytes: UnsafeRawBufferPointer) -> [MessageKey]? {
        UInt64Triples.decode(bytes) { MessageKey(idHigh: $0, idLow: $1, timestamp: Int64(bitPattern: $2)) }
    }
}

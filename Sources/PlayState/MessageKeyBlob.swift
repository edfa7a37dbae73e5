import PlayCounts

/// A chunk of committed message keys as one blob: 24 bytes per key (id high, id low, timestamp; big-endian),
/// in commit order. One row per commit instead of one per message: SQLite's cost per row (the VDBE program,
/// the b-tree insert) was most of a state file's commit.
enum MessageKeyBlob {
    static let bytesPerKey = 24

    static func encode(_ keys: [MessageKey]) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: keys.count * bytesPerKey) { buffer, initialized in
            let raw = UnsafeMutableRawBufferPointer(buffer)
            for (index, key) in keys.enumerated() {
                let offset = index * bytesPerKey
                raw.storeBytes(of: key.idHigh.bigEndian, toByteOffset: offset, as: UInt64.self)
                raw.storeBytes(of: key.idLow.bigEndian, toByteOffset: offset + 8, as: UInt64.self)
                raw.storeBytes(of: UInt64(bitPattern: key.timestamp).bigEndian, toByteOffset: offset + 16, as: UInt64.self)
            }
            initialized = keys.count * bytesPerKey
        }
    }

    /// Nil when the blob's length is not a whole number of keys.
    static func decode(_ bytes: UnsafeRawBufferPointer) -> [MessageKey]? {
        guard bytes.count % bytesPerKey == 0 else { return nil }
        return (0..<(bytes.count / bytesPerKey)).map { index in
            let offset = index * bytesPerKey
            return MessageKey(
                idHigh: UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self)),
                idLow: UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: offset + 8, as: UInt64.self)),
                timestamp: Int64(bitPattern: UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: offset + 16, as: UInt64.self))))
        }
    }
}

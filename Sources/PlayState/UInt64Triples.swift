/// The state file's fixed-width blobs: entries of three `UInt64`s, big-endian, 24 bytes each. The outbox's
/// counts (`OutboxCounts`) and a commit's message keys (`MessageKeyBlob`) are both stored this way.
enum UInt64Triples {
    static let bytesPerEntry = 24

    /// `count` entries, entry `i` being `entry(i)`.
    static func encode(count: Int, _ entry: (Int) -> (UInt64, UInt64, UInt64)) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: count * bytesPerEntry) { buffer, initialized in
            let raw = UnsafeMutableRawBufferPointer(buffer)
            for index in 0..<count {
                let (first, second, third) = entry(index)
                let offset = index * bytesPerEntry
                raw.storeBytes(of: first.bigEndian, toByteOffset: offset, as: UInt64.self)
                raw.storeBytes(of: second.bigEndian, toByteOffset: offset + 8, as: UInt64.self)
                raw.storeBytes(of: third.bigEndian, toByteOffset: offset + 16, as: UInt64.self)
            }
            initialized = count * bytesPerEntry
        }
    }

    /// The entries of `bytes`, each made into a `T`; nil when its length is not a whole number of entries.
    static func decode<T>(_ bytes: UnsafeRawBufferPointer, _ make: (UInt64, UInt64, UInt64) -> T) -> [T]? {
        guard bytes.count % bytesPerEntry == 0 else { return nil }
        return (0..<(bytes.count / bytesPerEntry)).map { index in
            let offset = index * bytesPerEntry
            return make(
                UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self)),
                UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: offset + 8, as: UInt64.self)),
                UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: offset + 16, as: UInt64.self)))
        }
    }
}

/// One of K partitions of the video space: the processor that owns it counts every play of its videos and no
/// other, so each video has one owner and its count never goes backwards (see README "Scaling out").
///
/// A video's partition is `fnv1a64(canonical id) mod K`, where the canonical id is the 36 bytes of its
/// lowercase `8-4-4-4-12` text and FNV-1a is the 64-bit variant (offset basis 0xcbf29ce484222325, prime
/// 0x100000001b3). It depends only on the id's value, never on the process, platform or release: a router and
/// an owner started years apart agree on it. Changing K moves most videos to another partition.
public struct Partition: Hashable, Sendable, Codable, CustomStringConvertible {
    /// 0-based: `index` < `count`.
    public let index: Int
    /// K, the number of partitions.
    public let count: Int

    /// The most partitions a deployment may have (each is a topic and an owner).
    public static let maxCount = 1024

    public init?(index: Int, count: Int) {
        guard (1...Self.maxCount).contains(count), (0..<count).contains(index) else { return nil }
        self.index = index
        self.count = count
    }

    /// Parses `k/K` (k from 0), e.g. `1/3`.
    public init?(_ text: some StringProtocol) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let index = Int(parts[0]), let count = Int(parts[1]) else { return nil }
        self.init(index: index, count: count)
    }

    /// The partition `video` falls in, of `count`.
    public static func of(_ video: VideoID, count: Int) -> Partition {
        Partition(index: Int(hash(video) % UInt64(count)), count: count)!
    }

    /// FNV-1a 64 of the canonical id's 36 UTF-8 bytes, computed from the 128 bits without building the text.
    public static func hash(_ video: VideoID) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        @inline(__always) func mix(_ byte: UInt8) {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        for digit in 0..<32 {
            if digit == 8 || digit == 12 || digit == 16 || digit == 20 { mix(UInt8(ascii: "-")) }
            let word = digit < 16 ? video.high : video.low
            let nibble = UInt8(truncatingIfNeeded: word >> UInt64(60 - 4 * (digit % 16))) & 0xF
            mix(nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") - 10 + nibble)
        }
        return hash
    }

    /// The topic its plays are routed to: `<topic>.p<k>`.
    public func topic(of topic: String) -> String { "\(topic).p\(index)" }

    /// `k/K`.
    public var description: String { "\(index)/\(count)" }
}

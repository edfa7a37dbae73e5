import PlayCounts
import PlayState

func video(_ n: UInt64) -> VideoID { VideoID(high: 0xABCD_0000_0000_0000 | n, low: n &* 0x9E37_79B9_7F4A_7C15) }

func key(_ n: UInt64, timestamp: WallNanoseconds = 1_700_000_000_000_000_000) -> MessageKey {
    // Like nsqd ids: 16 ASCII hex digits; the high bit set in some to exercise negative INTEGER storage.
    MessageKey(idHigh: 0x3031_3233_3435_3637 ^ (n << 63), idLow: 0x6162_6364_0000_0000 | n, timestamp: timestamp)
}

let second: WallNanoseconds = 1_000_000_000
let minute: WallNanoseconds = 60 * second

import Foundation
@testable import PlayCounts
@testable import PlayLoad

// Test-side names for the library's simulation helpers.

typealias SeededGenerator = SplitMix64

func simulate(
    _ batches: [TraceBatch], configuration: PublishPolicyConfiguration = PublishPolicyConfiguration(),
    flushAtEnd: Bool = false
) -> PolicySimulation {
    PolicySimulation.run(batches, configuration: configuration, flushAtEnd: flushAtEnd)
}

extension PolicySimulation {
    func audit(configuration: PublishPolicyConfiguration) -> [AuditViolation] {
        PublishAudit.check(receipts: receipts, calls: calls, configuration: configuration, realtimeGrace: 0)
    }
}

func liveTrace(
    seed: UInt64, videos: ZipfVideos, rate: Double, duration: Double, readInterval: Double = 0.01,
    lateFraction: Double = 0, start: WallNanoseconds = 1_000_000_000_000
) -> [TraceBatch] {
    SyntheticTrace.live(
        seed: seed, videos: videos, rate: rate, duration: duration, readInterval: readInterval,
        lateFraction: lateFraction, start: start)
}

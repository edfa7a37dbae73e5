import Foundation

/// The real wall clock (`CLOCK_REALTIME`, the clock NSQ stamps messages with).
public struct SystemWallClock: WallClock {
    public init() {}

    public func now() -> WallNanoseconds {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return WallNanoseconds(spec.tv_sec) * 1_000_000_000 + WallNanoseconds(spec.tv_nsec)
    }

    public func sleep(until deadline: WallNanoseconds) async throws {
        // Loops because the wall clock may be stepped while we sleep on the monotonic one.
        while true {
            let remaining = deadline - now()
            if remaining <= 0 { return }
            try await Task.sleep(nanoseconds: UInt64(remaining))
        }
    }
}

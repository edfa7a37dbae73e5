#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Which of an nsqd's two connections holds its share of RDY (see ``NSQConsumerConfiguration/CatchUp``),
/// decided from what each delivery says about lag; a value without sockets or clocks of its own.
struct CatchUpController: Sendable {
    let settings: NSQConsumerConfiguration.CatchUp
    /// The connection that holds the RDY share now.
    private(set) var active: NSQConnectionRole = .live
    /// True until the first live delivery was judged: the live connection then holds RDY 1 only, so a backlog
    /// found at start costs one unbuffered message, not a whole unbuffered window, before catch-up takes over.
    private(set) var probing = true
    /// The probe found a backlog before the catch-up connection was subscribed: switch once it is.
    private var probeFoundBacklog = false
    /// Counts catch-up deliveries, so that an idle check armed after a partial window can tell whether
    /// another delivery came since.
    private(set) var catchUpDeliveries = 0

    init(settings: NSQConsumerConfiguration.CatchUp) {
        self.settings = settings
    }

    /// What the consumer must do after a delivery.
    enum Decision: Equatable, Sendable {
        case none
        /// Move the RDY share to this connection.
        case switchTo(NSQConnectionRole)
        /// Ask ``idle(sinceDelivery:)`` after `settings.idleAfter`, with this delivery's number.
        case checkIdle(afterDelivery: Int)
    }

    /// A delivery from the connection in `role`: the lag of its oldest and youngest message (read time minus
    /// nsqd's timestamp) and whether the whole RDY window was in flight as it was handed over (nsqd could send
    /// no more). `catchUpAvailable` is false while the catch-up connection is not subscribed: then the consumer
    /// stays live.
    mutating func delivered(
        by role: NSQConnectionRole, oldestLag: Duration, youngestLag: Duration, filledWindow: Bool,
        catchUpAvailable: Bool
    ) -> Decision {
        switch (active, role) {
        case (.live, .live):
            let lagging = oldestLag >= settings.enterLag
            if probing {
                if lagging, !catchUpAvailable {
                    probeFoundBacklog = true  // stay at RDY 1 until catchUpConnected() or catchUpLost()
                    return .none
                }
                probing = false
                if !lagging { return .switchTo(.live) }  // the live connection's full share
            }
            guard catchUpAvailable, lagging else { return .none }
            active = .catchUp
            return .switchTo(.catchUp)
        case (.catchUp, .catchUp):
            catchUpDeliveries += 1
            if filledWindow { return .none }
            if youngestLag <= settings.leaveLag {
                active = .live
                return .switchTo(.live)
            }
            return .checkIdle(afterDelivery: catchUpDeliveries)
        default:
            // Stragglers of the connection that just lost the window (nsqd flushes its buffer on RDY 0).
            return .none
        }
    }

    /// The idle check armed by a partial catch-up window: if no catch-up delivery followed it, the backlog is
    /// gone and the consumer goes live.
    mutating func idle(sinceDelivery delivery: Int) -> Decision {
        guard active == .catchUp, catchUpDeliveries == delivery else { return .none }
        active = .live
        return .switchTo(.live)
    }

    /// The catch-up connection is subscribed: a probe that found a backlog hands the window to it.
    mutating func catchUpConnected() -> Decision {
        guard probing, probeFoundBacklog else { return .none }
        probing = false
        active = .catchUp
        return .switchTo(.catchUp)
    }

    /// The catch-up connection was lost (or refused): live again, with the full share (it has nowhere else to go).
    mutating func catchUpLost() -> Decision {
        if probing {
            probing = false
            return .switchTo(.live)
        }
        guard active == .catchUp else { return .none }
        active = .live
        return .switchTo(.live)
    }
}

/// This host's wall clock in nanoseconds since the epoch: what nsqd's message timestamps are compared with.
enum NSQWallClock {
    static func nanoseconds() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Int64(spec.tv_sec) * 1_000_000_000 + Int64(spec.tv_nsec)
    }
}

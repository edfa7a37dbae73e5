import Testing
@testable import NSQ

/// Which connection holds an nsqd's RDY share: the pure decisions behind the live / catch-up pair.
@Suite struct CatchUpControllerTests {
    let settings = NSQConsumerConfiguration.CatchUp()
    let fresh: Duration = .milliseconds(1)
    let stale: Duration = .seconds(5)

    /// A controller whose start-up probe found live traffic (the live connection holds the full share).
    func liveController() -> CatchUpController {
        var controller = CatchUpController(settings: settings)
        _ = controller.delivered(by: .live, oldestLag: fresh, youngestLag: fresh, filledWindow: true, catchUpAvailable: true)
        return controller
    }

    @Test func theProbeGivesTheLiveConnectionItsFullShareWhenTheQueueIsCurrent() {
        var controller = CatchUpController(settings: settings)
        #expect(controller.probing)
        let decision = controller.delivered(
            by: .live, oldestLag: fresh, youngestLag: fresh, filledWindow: true, catchUpAvailable: true)
        #expect(decision == .switchTo(.live))
        #expect(!controller.probing)
        #expect(controller.active == .live)
    }

    @Test func theProbeHandsABacklogToTheCatchUpConnection() {
        var controller = CatchUpController(settings: settings)
        let decision = controller.delivered(
            by: .live, oldestLag: stale, youngestLag: stale, filledWindow: true, catchUpAvailable: true)
        #expect(decision == .switchTo(.catchUp))
        #expect(controller.active == .catchUp)
        #expect(!controller.probing)
    }

    @Test func aBacklogFoundBeforeTheCatchUpConnectionIsUpSwitchesOnceItIs() {
        var controller = CatchUpController(settings: settings)
        let early = controller.delivered(
            by: .live, oldestLag: stale, youngestLag: stale, filledWindow: true, catchUpAvailable: false)
        #expect(early == .none)
        #expect(controller.probing)  // still RDY 1 on the live connection
        #expect(controller.catchUpConnected() == .switchTo(.catchUp))
        #expect(controller.active == .catchUp)
    }

    @Test func aRefusedCatchUpConnectionEndsTheProbeWithTheLiveConnectionHoldingEverything() {
        var controller = CatchUpController(settings: settings)
        _ = controller.delivered(by: .live, oldestLag: stale, youngestLag: stale, filledWindow: true, catchUpAvailable: false)
        #expect(controller.catchUpLost() == .switchTo(.live))
        #expect(!controller.probing)
        #expect(controller.active == .live)
        #expect(controller.catchUpConnected() == .none)
    }

    @Test func liveTrafficStaysLiveUntilItLagsByTheEnterLag() {
        var controller = liveController()
        let justUnder = settings.enterLag - .milliseconds(1)
        #expect(controller.delivered(
            by: .live, oldestLag: justUnder, youngestLag: fresh, filledWindow: true, catchUpAvailable: true) == .none)
        #expect(controller.delivered(
            by: .live, oldestLag: settings.enterLag, youngestLag: fresh, filledWindow: true, catchUpAvailable: true)
            == .switchTo(.catchUp))
    }

    @Test func aLaggingLiveConnectionStaysLiveWithoutACatchUpConnection() {
        var controller = liveController()
        #expect(controller.delivered(
            by: .live, oldestLag: stale, youngestLag: stale, filledWindow: true, catchUpAvailable: false) == .none)
        #expect(controller.active == .live)
    }

    @Test func catchUpGoesOnWhileWindowsFillAndGoesLiveOnAFreshPartialWindow() {
        var controller = liveController()
        _ = controller.delivered(by: .live, oldestLag: stale, youngestLag: stale, filledWindow: true, catchUpAvailable: true)
        #expect(controller.delivered(
            by: .catchUp, oldestLag: stale, youngestLag: fresh, filledWindow: true, catchUpAvailable: true) == .none)
        #expect(controller.delivered(
            by: .catchUp, oldestLag: stale, youngestLag: settings.leaveLag, filledWindow: false, catchUpAvailable: true)
            == .switchTo(.live))
        #expect(controller.active == .live)
    }

    @Test func aStalePartialWindowArmsAnIdleCheckThatALaterDeliveryDisarms() {
        var controller = liveController()
        _ = controller.delivered(by: .live, oldestLag: stale, youngestLag: stale, filledWindow: true, catchUpAvailable: true)
        let decision = controller.delivered(
            by: .catchUp, oldestLag: stale, youngestLag: stale, filledWindow: false, catchUpAvailable: true)
        guard case .checkIdle(let delivery) = decision else {
            Issue.record("expected an idle check, got \(decision)")
            return
        }
        _ = controller.delivered(by: .catchUp, oldestLag: stale, youngestLag: stale, filledWindow: true, catchUpAvailable: true)
        #expect(controller.idle(sinceDelivery: delivery) == .none)
        #expect(controller.active == .catchUp)
    }

    @Test func anIdleCheckWithNoDeliverySinceGoesLive() {
        var controller = liveController()
        _ = controller.delivered(by: .live, oldestLag: stale, youngestLag: stale, filledWindow: true, catchUpAvailable: true)
        guard case .checkIdle(let delivery) = controller.delivered(
            by: .catchUp, oldestLag: stale, youngestLag: stale, filledWindow: false, catchUpAvailable: true)
        else {
            Issue.record("expected an idle check")
            return
        }
        #expect(controller.idle(sinceDelivery: delivery) == .switchTo(.live))
    }

    @Test func stragglersOfTheConnectionThatLostTheWindowChangeNothing() {
        var controller = liveController()
        _ = controller.delivered(by: .live, oldestLag: stale, youngestLag: stale, filledWindow: true, catchUpAvailable: true)
        #expect(controller.delivered(
            by: .live, oldestLag: fresh, youngestLag: fresh, filledWindow: false, catchUpAvailable: true) == .none)
        #expect(controller.active == .catchUp)
        #expect(controller.catchUpLost() == .switchTo(.live))
    }
}

import NIOCore
import Testing
@testable import NSQ

@Test func messageIDRoundTripsThroughText() {
    let id = NSQMessageID("18ac9fa22c269000")
    #expect(id?.description == "18ac9fa22c269000")
    #expect(NSQMessageID("short") == nil)
}

@Test func namesFollowNSQDRule() {
    #expect(NSQProtocol.isValidName("plays"))
    #expect(NSQProtocol.isValidName("plays#ephemeral"))
    #expect(!NSQProtocol.isValidName("bad!topic"))
    #expect(!NSQProtocol.isValidName(""))
    #expect(!NSQProtocol.isValidName(String(repeating: "a", count: 65)))
}

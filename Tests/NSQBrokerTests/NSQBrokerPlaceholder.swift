import Testing
@testable import NSQBroker

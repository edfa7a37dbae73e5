import Testing
@testable import PlayCounts

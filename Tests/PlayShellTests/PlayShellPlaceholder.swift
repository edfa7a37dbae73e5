import Testing
@testable import PlayShell

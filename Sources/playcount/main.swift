import Foundation
import PlayShell

let status = await PlaycountMain.run(
    arguments: Array(CommandLine.arguments.dropFirst()),
    setUp: { shell in PlaycountCommands.install(in: shell) },
    tearDown: { shell in await PlaycountCommands.shutDown(shell) })
exit(status)

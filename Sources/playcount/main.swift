// playcount: the control shell. All behaviour lives in PlayShell; see PlaycountMain and ExitStatus.
import Foundation
import PlayShell

let status = await PlaycountMain.run(arguments: Array(CommandLine.arguments.dropFirst()))
exit(status)

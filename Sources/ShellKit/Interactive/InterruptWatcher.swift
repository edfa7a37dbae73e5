import CEditLineShim
import Foundation

/// Turns SIGINT into shell behaviour. A C handler writes a byte to a self-pipe for each Ctrl-C; a dedicated
/// thread reads the pipe and asks the `InterruptController`: a running command is cancelled, the prompt
/// drops its line, a script waiting for input ends with status 130, and a command that ignores three
/// presses in a row ends the program with status 130.
public enum InterruptWatcher {
    /// - Parameter name: the program's name, for the message printed when a command ignores Ctrl-C.
    public static func start(controller: InterruptController, interactive: Bool, name: String) {
        let descriptor = playcount_sigint_install()
        guard descriptor >= 0 else { return }
        let thread = Thread {
            var byte: UInt8 = 0
            while true {
                let count = read(descriptor, &byte, 1)
                if count < 0, errno == EINTR { continue }
                if count <= 0 { return }
                switch controller.interrupt() {
                case .abandonPrompt:
                    playcount_prompt_interrupt()
                case .idle:
                    if !interactive { exit(ExitStatus.interrupted) }
                case .forceQuit:
                    FileDescriptorSink(descriptor: 2).write("\n\(name): the command ignored Ctrl-C; leaving\n")
                    exit(ExitStatus.interrupted)
                case .cancelledCommand:
                    break
                }
            }
        }
        thread.start()
    }
}

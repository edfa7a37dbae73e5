import Dispatch
import Foundation
import Locking

/// SIGTERM (a supervisor stopping the service) → stop the processor gracefully, then exit 0.
///
/// Installed when the processor first starts (before that, SIGTERM keeps its default action: there is
/// nothing to save). The handler stops the running processor — CLS, settle in-flight messages, commit,
/// publish what is held — and the embedded broker, then exits with status 0. A second SIGTERM while that
/// runs exits at once (status 143; see `PlaycountApp.terminate`).
public enum TerminationWatcher {
    private static let source = Locked<(any DispatchSourceSignal)?>(nil)

    public static func install(onTerminate: @escaping @Sendable () -> Void) {
        source.withLock { source in
            guard source == nil else { return }
            signal(SIGTERM, SIG_IGN)
            let signalSource = DispatchSource.makeSignalSource(signal: SIGTERM, queue: .global())
            signalSource.setEventHandler(handler: onTerminate)
            signalSource.resume()
            source = signalSource
        }
    }
}

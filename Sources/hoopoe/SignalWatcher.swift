import Dispatch
import Foundation
import Logging
import Synchronization

/// Maps signals to lifecycle verbs: SIGTERM/SIGINT stop (the first gracefully, the second at once),
/// SIGTSTP makes a worker quiet. Counting stop signals is what lets the second one escalate.
///
/// - Note: `@unchecked Sendable`: `sources` is written once in `init` and only read (cancelled) in
///   `deinit`; dispatch sources are thread-safe for those calls.
final class SignalWatcher: @unchecked Sendable {
    private let sources: [any DispatchSourceSignal]

    init(logger: Logger, onStop: @escaping @Sendable (Int) -> Void, onQuiet: @escaping @Sendable () -> Void = {}) {
        var sources: [any DispatchSourceSignal] = []
        let stops = StopCount()
        for (number, name) in [(SIGTERM, "SIGTERM"), (SIGINT, "SIGINT"), (SIGTSTP, "SIGTSTP")] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                if number == SIGTSTP {
                    logger.notice("\(name): quiet")
                    onQuiet()
                    return
                }
                let count = stops.increment()
                logger.notice("\(name): \(count == 1 ? "graceful shutdown" : "stopping now")")
                onStop(count)
            }
            source.resume()
            sources.append(source)
        }
        self.sources = sources
    }

    deinit {
        for source in sources { source.cancel() }
    }
}

/// How many stop signals arrived.
private final class StopCount: Sendable {
    private let count = Mutex(0)
    func increment() -> Int { count.withLock { $0 += 1; return $0 } }
}

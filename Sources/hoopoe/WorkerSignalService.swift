import Foundation
import HoopoeCore
import Logging
import ServiceLifecycle

/// The worker's signals beyond the first stop: the `ServiceGroup` turns the first SIGTERM/SIGINT into a graceful
/// shutdown (``WorkerService`` drains the worker); this service, listed first so it is shut down last, sees every
/// signal too and turns a second SIGTERM/SIGINT into ``Worker/shutdownNow()`` and SIGTSTP into ``Worker/quiet()``.
/// Counting stop signals here is what lets the second one escalate: the group stops listening after the first.
/// After SIGTSTP the heartbeat beats at once, so its `state` (quiet) reaches `hoopoe enqueue`'s and the health check's
/// "no worker serves" warnings now, not up to a beat later.
struct WorkerSignalService: Service, CustomStringConvertible {
    /// Its name alone in the service group's debug lines, as every service's: its fields would print the heartbeat
    /// (its id, host and loggers) and the worker whole, lines of thousands of characters.
    var description: String { "WorkerSignalService" }

    /// Made before the group runs, so no signal that arrives early is lost (an unhandled SIGTSTP would stop the
    /// process).
    let stream: SignalStream
    let worker: Worker
    let heartbeat: Heartbeat
    let logger: Logger

    init(worker: Worker, heartbeat: Heartbeat, logger: Logger) {
        stream = SignalStream([SIGTERM, SIGINT, SIGTSTP])
        self.worker = worker
        self.heartbeat = heartbeat
        self.logger = logger
    }

    func run() async {
        var stops = 0
        for await signal in stream.signals.cancelOnGracefulShutdown() {
            if signal == SIGTSTP {
                logger.notice("SIGTSTP: quiet")
                worker.quiet()
                heartbeat.beatSoon()
                continue
            }
            stops += 1
            logger.notice("\(signal == SIGINT ? "SIGINT" : "SIGTERM"): \(stops == 1 ? "graceful shutdown" : "stopping now")")
            if stops == 1 { worker.shutdown() } else { worker.shutdownNow() }
        }
    }
}

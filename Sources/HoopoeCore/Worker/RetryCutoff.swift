import Synchronization

/// Set by "stop now" (a second SIGTERM/SIGINT, ``Worker/shutdownNow()``): the hand-backs and acknowledgements that
/// Redis did not take stop being tried again, and the worker exits.
///
/// Why: those retries wait for Redis for up to ``WorkerOptions/unsentAcknowledgementRetry`` (30 s), each try as long as
/// a connect's timeout, so with Redis away the second signal `hoopoe worker --help` promises "stops at once" left the
/// worker waiting ~30–35 s, looking hung. What is given up returns after its lease and runs again (at least once).
final class RetryCutoff: Sendable {
    private let cut = Atomic(false)

    /// Whether retries are to stop.
    var isCut: Bool { cut.load(ordering: .acquiring) }

    /// Stops every retry from here on; each gives up at its next failure.
    func cutNow() { cut.store(true, ordering: .releasing) }
}

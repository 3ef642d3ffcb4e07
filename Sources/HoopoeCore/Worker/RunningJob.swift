import Synchronization

/// One attempt in progress: the handler's task raced against its deadline and against shutdown.
///
/// Whichever comes first decides the outcome, once. A handler that ignores cancellation cannot hold the
/// worker hostage: on timeout (``timeOut()``, called by the worker's ``TimeoutWatchdog`` at ``deadline``)
/// or interruption the outcome is reported at once and the handler's task is cancelled and left to wind
/// down.
final class RunningJob: Sendable {
    enum Outcome: Sendable {
        case finished(Result<Void, any Error>)
        case timedOut
        case interrupted
    }

    private struct State {
        var continuation: CheckedContinuation<Outcome, Never>?
        var work: Task<Void, Never>?
        var outcome: Outcome?
    }

    /// The stream entry id: unique among the jobs a worker holds.
    let key: String
    /// The runner running it (0 ..< concurrency): where ``WorkerLifecycle`` and ``TimeoutWatchdog`` keep it, an array
    /// index instead of a dictionary keyed by ``key`` (hashing it twice a job in each was ~3 % of the worker's CPU).
    let slot: Int
    /// When the attempt times out: its start plus the job's timeout.
    let deadline: ContinuousClock.Instant
    private let state = Mutex(State())

    init(key: String, slot: Int, timeout: Duration) {
        self.key = key
        self.slot = slot
        self.deadline = ContinuousClock.now.advanced(by: timeout)
    }

    /// Runs `body` until it finishes or the attempt is ended by ``timeOut()`` or ``interrupt()``.
    func run(_ body: @escaping @Sendable () async throws -> Void) async -> Outcome {
        await withCheckedContinuation { continuation in
            let early = state.withLock { state -> Outcome? in
                if let outcome = state.outcome { return outcome }  // timed out or interrupted before it started
                state.continuation = continuation
                return nil
            }
            if let early {
                continuation.resume(returning: early)
                return
            }
            let work = Task {
                do {
                    try await body()
                    self.finish(.finished(.success(())))
                } catch {
                    self.finish(.finished(.failure(error)))
                }
            }
            let cancel = state.withLock { state -> Bool in
                state.work = work
                // Ended by timeout or shutdown while the task was being made: cancel it now.
                if case .finished? = state.outcome { return false }
                return state.outcome != nil
            }
            if cancel { work.cancel() }
        }
    }

    /// Ends the attempt now as timed out (its deadline passed).
    func timeOut() {
        finish(.timedOut)
    }

    /// Ends the attempt now as interrupted (shutdown ran out of time).
    func interrupt() {
        finish(.interrupted)
    }

    private func finish(_ outcome: Outcome) {
        let (continuation, work) = state.withLock { state -> (CheckedContinuation<Outcome, Never>?, Task<Void, Never>?) in
            guard state.outcome == nil else { return (nil, nil) }
            state.outcome = outcome
            let continuation = state.continuation
            state.continuation = nil
            return (continuation, state.work)
        }
        if case .finished = outcome {} else { work?.cancel() }
        continuation?.resume(returning: outcome)
    }
}

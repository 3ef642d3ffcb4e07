import Synchronization

/// One attempt in progress: the handler, run in its runner's own task, raced against its deadline and against
/// shutdown.
///
/// Whichever comes first decides the outcome, once. A handler that ignores cancellation cannot hold the worker
/// hostage: on timeout (``timeOut()``, called by the worker's ``TimeoutWatchdog`` at ``deadline``) or interruption
/// the runner's task is cancelled and the job is *taken over*: the `takeOver` closure given to ``run(takeOver:_:)``
/// settles it and carries on the runner's work in a new task, while the old one is left to wind down and then ends.
///
/// Why the handler runs in the runner's task, not a task of its own: a task per job, and the runner waiting for it,
/// cost a task's creation and a second resume a job (the runner woken on the pool by the handler's end); with the
/// handler inline the worker used ~20–30 % less CPU a job (decision 0041). The price is the take-over above: a
/// runner stuck in a handler is replaced rather than waited for.
final class RunningJob: Sendable {
    enum Outcome: Sendable {
        case finished(Result<Void, any Error>)
        case timedOut
        /// Shutdown ran out of time while the handler ran: its run counts as an attempt when the job is handed back.
        case interrupted
        /// Shutdown ran out of time before the handler began: no run was made, none is counted.
        ///
        /// Two cases without a payload rather than `interrupted(started: Bool)`: with a second payload beside
        /// `finished`'s, every outcome (the success of each job included) was destroyed and switched on through the
        /// outlined code of a multi-payload enum (~9 instructions a job, callgrind, session 63).
        case interruptedBeforeStart
    }

    private struct State {
        var outcome: Outcome?
        /// The runner's task while the handler runs in it: cancelled when the attempt is ended early.
        var runner: RunnerTask?
        /// Settles the job and carries the runner's slot on when the attempt is ended early.
        var takeOver: (any TakeOver)?
    }

    /// The stream entry id: unique among the jobs a worker holds of one queue (two queues' streams can give the same
    /// id to entries added in the same millisecond).
    let key: String
    /// The queue whose stream ``key`` is an entry of.
    let queue: String
    /// The runner running it (0 ..< concurrency): where ``WorkerLifecycle`` and ``TimeoutWatchdog`` keep it, an array
    /// index instead of a dictionary keyed by ``key`` (hashing it twice a job in each was ~3 % of the worker's CPU).
    let slot: Int
    /// When the attempt started (the worker registers it just before its handler runs): the run's start a heartbeat
    /// reports (``Worker/heartbeatFields``). Monotonic, and the very reading ``deadline`` counts from, so the job's path
    /// reads no clock for it; the heartbeat turns it into the host's wall-clock time, once a beat.
    let started: ContinuousClock.Instant
    /// When the attempt times out: its start plus the job's timeout.
    let deadline: ContinuousClock.Instant
    private let state = Mutex(State())

    init(key: String, queue: String, slot: Int, timeout: Duration) {
        self.key = key
        self.queue = queue
        self.slot = slot
        let now = ContinuousClock.now
        self.started = now
        self.deadline = now.advanced(by: timeout)
    }

    /// Runs `body` in the calling task until it finishes, unless the attempt is ended first by ``timeOut()`` or
    /// ``interrupt()``.
    ///
    /// - Returns: the outcome the caller settles: the handler's, or the early end's when that came before the
    ///   handler started. Nil when the attempt was ended while the handler ran: then `takeOver` was called with that
    ///   outcome (once, on the thread that ended it) and this task was cancelled; the caller must leave the job and
    ///   its runner's work to whoever took over, and return.
    func run(takeOver: @escaping @Sendable (Outcome) -> Void, _ body: () async throws -> Void) async -> Outcome? {
        await run(takeOver: ClosureTakeOver(body: takeOver), body)
    }

    /// ``run(takeOver:_:)`` with an object that takes over: the worker's attempt itself (``Worker/AttemptRun``), so
    /// that a job needs no closure context allocated and no copy of the attempt made for it.
    func run(takeOver: any TakeOver, _ body: () async throws -> Void) async -> Outcome? {
        let early = withUnsafeCurrentTask { task in
            state.withLock { state -> Outcome? in
                // Timed out or interrupted before it started: no run of it was made.
                if let outcome = state.outcome {
                    if case .interrupted = outcome { return .interruptedBeforeStart }
                    return outcome
                }
                state.runner = task.map(RunnerTask.init)
                state.takeOver = takeOver
                return nil
            }
        }
        if let early { return early }
        let result: Result<Void, any Error>
        do {
            try await body()
            result = .success(())
        } catch {
            result = .failure(error)
        }
        return state.withLock { state -> Outcome? in
            state.runner = nil
            state.takeOver = nil
            guard state.outcome == nil else { return nil }  // taken over meanwhile
            state.outcome = .finished(result)
            return .finished(result)
        }
    }

    /// Ends the attempt now as timed out (its deadline passed).
    func timeOut() {
        end(.timedOut)
    }

    /// Ends the attempt now as interrupted (shutdown ran out of time).
    func interrupt() {
        end(.interrupted)  // told apart by run() when the handler had not started
    }

    private func end(_ outcome: Outcome) {
        let takeOver = state.withLock { state -> (any TakeOver)? in
            guard state.outcome == nil else { return nil }
            state.outcome = outcome
            // Under the lock: the runner's task is alive until run() takes the lock after the handler, and it lets
            // go of `runner` there.
            state.runner?.cancel()
            state.runner = nil
            defer { state.takeOver = nil }
            return state.takeOver
        }
        takeOver?.takeOver(outcome)
    }

    /// Whoever settles an attempt ended while its handler ran, and carries its runner's work on in a new task.
    protocol TakeOver: AnyObject, Sendable {
        func takeOver(_ outcome: Outcome)
    }

    private final class ClosureTakeOver: TakeOver {
        let body: @Sendable (Outcome) -> Void
        init(body: @escaping @Sendable (Outcome) -> Void) { self.body = body }
        func takeOver(_ outcome: Outcome) { body(outcome) }
    }
}

/// The task a runner runs a handler in, to cancel it from the thread that ends the attempt.
///
/// - Note: `@unchecked Sendable` is sound because ``RunningJob`` keeps it only while that task is inside
///   ``RunningJob/run(takeOver:_:)`` (it is dropped under the same lock before `run` returns) and cancels it only
///   under that lock, so the task it points to is alive whenever it is used; `cancel()` may be called from any thread.
private struct RunnerTask: @unchecked Sendable {
    let task: UnsafeCurrentTask

    func cancel() {
        task.cancel()
    }
}

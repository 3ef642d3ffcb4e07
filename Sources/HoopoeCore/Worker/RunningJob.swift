import Synchronization

/// One attempt in progress: the handler's task raced against its timeout and against shutdown.
///
/// Whichever comes first decides the outcome, once. A handler that ignores cancellation cannot hold the
/// worker hostage: on timeout or interruption the outcome is reported at once and the handler's task is
/// cancelled and left to wind down.
final class RunningJob: Sendable {
    enum Outcome: Sendable {
        case finished(Result<Void, any Error>)
        case timedOut
        case interrupted
    }

    private struct State {
        var continuation: CheckedContinuation<Outcome, Never>?
        var work: Task<Void, Never>?
        var timer: Task<Void, Never>?
        var outcome: Outcome?
    }

    /// The stream entry id: unique among the jobs a worker holds.
    let key: String
    private let state = Mutex(State())

    init(key: String) {
        self.key = key
    }

    /// Runs `body` with a time limit.
    func run(timeout: Duration, _ body: @escaping @Sendable () async throws -> Void) async -> Outcome {
        await withCheckedContinuation { continuation in
            let early = state.withLock { state -> Outcome? in
                if let outcome = state.outcome { return outcome }  // interrupted before it started
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
            let timer = Task {
                try? await Task.sleep(for: timeout)
                if !Task.isCancelled { self.finish(.timedOut) }
            }
            let finished = state.withLock { state -> Bool in
                state.work = work
                state.timer = timer
                return state.outcome != nil
            }
            if finished { timer.cancel() }
        }
    }

    /// Ends the attempt now as interrupted (shutdown ran out of time).
    func interrupt() {
        finish(.interrupted)
    }

    private func finish(_ outcome: Outcome) {
        let (continuation, work, timer) = state.withLock { state -> (CheckedContinuation<Outcome, Never>?, Task<Void, Never>?, Task<Void, Never>?) in
            guard state.outcome == nil else { return (nil, nil, nil) }
            state.outcome = outcome
            let continuation = state.continuation
            state.continuation = nil
            return (continuation, state.work, state.timer)
        }
        timer?.cancel()
        if case .finished = outcome {} else { work?.cancel() }
        continuation?.resume(returning: outcome)
    }
}

import Synchronization

/// A worker's ``WorkerState`` and the jobs it is running, under one lock, with waiters for a state.
///
/// The running jobs live here, beside the state, because the two decide together: a job registered once the
/// worker is ``WorkerState/stopping`` must be interrupted at once, and entering that state interrupts every job
/// registered before it. One lock for both also keeps the hot path at one lock per job start and end.
final class WorkerLifecycle: Sendable {
    private struct Waiter {
        let target: WorkerState
        let continuation: CheckedContinuation<Void, Never>
    }

    private struct State {
        var phase = WorkerState.running
        /// The job each runner runs, by ``RunningJob/slot``.
        var running: [RunningJob?]
        var busy = 0
        /// Runner loops not yet ended; the last one to end makes the worker ``WorkerState/stopped``.
        var runners: Int
        var waiters: [Int: Waiter] = [:]
        var nextWaiter = 0
        /// Waiters cancelled before they were stored (their continuation is resumed when it arrives).
        var cancelled: Set<Int> = []
    }

    private let state: Mutex<State>

    /// - Parameter runners: how many runner loops the worker starts (its concurrency).
    init(runners: Int) {
        state = Mutex(State(running: Array(repeating: nil, count: runners), runners: runners))
    }

    /// The state now.
    var current: WorkerState { state.withLock { $0.phase } }

    /// Jobs running now.
    var busy: Int { state.withLock { $0.busy } }

    /// Jobs running now, for interrupting.
    var runningJobs: [RunningJob] { state.withLock { $0.running.compactMap { $0 } } }

    /// Whether the job of `queue`'s stream entry `entryID` is running now (a cancel's answer, decision 0089). The queue
    /// too: matched by the entry id alone, a job held in the buffer was answered `running`, and then ran, while another
    /// queue's job with the same entry id ran.
    func isRunning(queue: String, entryID: String) -> Bool {
        state.withLock { $0.running.contains { $0?.key == entryID && $0?.queue == queue } }
    }

    /// ``WorkerState/running`` → ``WorkerState/quiet``. Returns false when the worker was not running.
    func quiet() -> Bool {
        advance(to: .quiet, from: [.running]) != nil
    }

    /// Running or quiet → ``WorkerState/draining``. Returns false when shutdown had already begun.
    func drain() -> Bool {
        advance(to: .draining, from: [.running, .quiet]) != nil
    }

    /// Anything before it → ``WorkerState/stopping``. Returns the jobs running now, to interrupt, or nil when the
    /// worker was already stopping or stopped.
    func stopNow() -> [RunningJob]? {
        advance(to: .stopping, from: [.running, .quiet, .draining])
    }

    /// A runner loop ended (the buffer closed and its last job settled).
    func runnerEnded() {
        let waiters = state.withLock { state -> [Waiter] in
            state.runners -= 1
            guard state.runners <= 0 else { return [] }
            state.phase = .stopped
            return Self.due(&state)
        }
        for waiter in waiters { waiter.continuation.resume() }
    }

    /// Records a job that starts. Returns true when the worker is already stopping: then the caller interrupts it.
    func register(_ job: RunningJob) -> Bool {
        state.withLock { state in
            assert(state.running[job.slot] == nil, "runner \(job.slot) registered a job while running another")
            state.running[job.slot] = job
            state.busy += 1
            return state.phase >= .stopping
        }
    }

    /// Forgets a job that ended.
    func unregister(_ job: RunningJob) {
        state.withLock { state in
            guard state.running[job.slot] === job else { return }
            state.running[job.slot] = nil
            state.busy -= 1
        }
    }

    /// Returns once the worker has reached `target` (or a later state), or when the task is cancelled.
    func wait(until target: WorkerState) async {
        let id = state.withLock { state in
            defer { state.nextWaiter += 1 }
            return state.nextWaiter
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let ready = state.withLock { state -> Bool in
                    if state.phase >= target || state.cancelled.remove(id) != nil { return true }
                    state.waiters[id] = Waiter(target: target, continuation: continuation)
                    return false
                }
                if ready { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { state -> Waiter? in
                if let waiter = state.waiters.removeValue(forKey: id) { return waiter }
                state.cancelled.insert(id)
                return nil
            }
            waiter?.continuation.resume()
        }
        // A cancellation that came after the continuation was resumed leaves its mark: drop it.
        _ = state.withLock { $0.cancelled.remove(id) }
    }

    /// Moves to `next` when the state is one of `from`; returns the running jobs then, or nil when it did not move.
    private func advance(to next: WorkerState, from: Set<WorkerState>) -> [RunningJob]? {
        let moved = state.withLock { state -> ([RunningJob], [Waiter])? in
            guard from.contains(state.phase) else { return nil }
            state.phase = next
            return (state.running.compactMap { $0 }, Self.due(&state))
        }
        guard let (running, waiters) = moved else { return nil }
        for waiter in waiters { waiter.continuation.resume() }
        return running
    }

    /// Removes and returns the waiters the current state satisfies.
    private static func due(_ state: inout State) -> [Waiter] {
        let ready = state.waiters.filter { $0.value.target <= state.phase }
        for id in ready.keys { state.waiters[id] = nil }
        return Array(ready.values)
    }
}

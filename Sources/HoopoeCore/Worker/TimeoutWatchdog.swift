import Synchronization

/// One timer for all of a worker's running jobs: ends each attempt as timed out at its deadline.
///
/// A job is added when it starts and removed when it ends. One loop sleeps until the earliest deadline,
/// times out the jobs that are due and sleeps again; a job whose deadline is earlier than the one the
/// loop sleeps towards wakes it. Jobs of one type share a timeout, so deadlines mostly arrive in order
/// and the loop wakes about once per timeout, not once per job: a timer task and a `Task.sleep` per
/// job cost more CPU than a no-op job itself.
final class TimeoutWatchdog: Sendable {
    private struct State {
        /// The running jobs by ``RunningJob/slot``: an array index per start and end, no hashing.
        var jobs: [RunningJob?]
        /// The deadline the sleeping loop wakes at; nil while it waits for a job.
        var target: ContinuousClock.Instant?
        /// The sleeping loop; resumed to make it look again, once: whoever resumes it takes it out under the lock.
        /// Unchecked: a checked continuation is a type whose layout the standard library keeps opaque, so each copy,
        /// test and clear of this optional went through its value witnesses, ~500 instructions of every ``add(_:)``
        /// (callgrind, session 25); an unchecked one is a pointer.
        var wake: UnsafeContinuation<Void, Never>?
        /// Counts sleeps, so an outdated sleep's end does not wake the loop.
        var generation = 0
        var stopped = false
    }

    private enum Next {
        case now
        case wait
        case sleep(until: ContinuousClock.Instant, generation: Int)
    }

    private let state: Mutex<State>

    /// - Parameter slots: how many jobs run at once (the worker's concurrency); a job's slot is below it.
    init(slots: Int) {
        state = Mutex(State(jobs: Array(repeating: nil, count: slots)))
    }

    /// Watches `job` until ``remove(_:)``.
    func add(_ job: RunningJob) {
        let wake = state.withLock { state -> UnsafeContinuation<Void, Never>? in
            state.jobs[job.slot] = job
            guard state.wake != nil, state.target.map({ job.deadline < $0 }) ?? true else { return nil }
            defer { state.wake = nil }
            state.generation &+= 1
            return state.wake
        }
        wake?.resume()
    }

    /// Stops watching `job` (it ended).
    func remove(_ job: RunningJob) {
        state.withLock { state in
            if state.jobs[job.slot] === job { state.jobs[job.slot] = nil }
        }
    }

    /// Ends ``run()``.
    func stop() {
        let wake = state.withLock { state -> UnsafeContinuation<Void, Never>? in
            state.stopped = true
            defer { state.wake = nil }
            return state.wake
        }
        wake?.resume()
    }

    /// Times jobs out until ``stop()``.
    func run() async {
        while true {
            let now = ContinuousClock.now
            let (due, stopped) = state.withLock { state -> ([RunningJob], Bool) in
                var due: [RunningJob] = []
                for slot in state.jobs.indices {
                    guard let job = state.jobs[slot], job.deadline <= now else { continue }
                    due.append(job)
                    state.jobs[slot] = nil
                }
                return (due, state.stopped)
            }
            for job in due { job.timeOut() }
            if stopped { return }
            await withUnsafeContinuation { (continuation: UnsafeContinuation<Void, Never>) in
                let next = state.withLock { state -> Next in
                    if state.stopped { return .now }
                    guard let earliest = state.jobs.lazy.compactMap({ $0?.deadline }).min() else {
                        state.target = nil
                        state.wake = continuation
                        return .wait
                    }
                    if earliest <= ContinuousClock.now { return .now }
                    state.generation &+= 1
                    state.target = earliest
                    state.wake = continuation
                    return .sleep(until: earliest, generation: state.generation)
                }
                switch next {
                case .now: continuation.resume()
                case .wait: break
                case .sleep(let deadline, let generation):
                    Task { [self] in
                        try? await Task.sleep(until: deadline, clock: .continuous)
                        self.wakeIfStill(generation)
                    }
                }
            }
        }
    }

    private func wakeIfStill(_ generation: Int) {
        let wake = state.withLock { state -> UnsafeContinuation<Void, Never>? in
            guard state.generation == generation else { return nil }
            defer { state.wake = nil }
            return state.wake
        }
        wake?.resume()
    }
}

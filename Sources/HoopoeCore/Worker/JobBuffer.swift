import Synchronization

/// Fetched jobs waiting for a free slot, per queue, with the queue chosen by the selection's rule.
///
/// Runners wait in ``take()``; the fetcher (on a Redis Cluster, one per queue) waits in ``waitForRoom(below:)``
/// until the buffer is low, so a worker holds at most about `prefetch` jobs it is not running. Closing wakes everyone and returns
/// what was left, for handing back. It also knows the paused queues (``setPaused(_:)``), so that a job of a paused
/// queue is never taken to run: the check and the put are one step under the buffer's lock.
final class JobBuffer: Sendable {
    private struct State {
        var queues: [String: [FetchedJob]] = [:]
        var heads: [String: Int] = [:]
        var count = 0
        var closed = false
        var takers: [CheckedContinuation<FetchedJob?, Never>] = []
        var roomWaiters: [(limit: Int, continuation: CheckedContinuation<Void, Never>)] = []
        /// Paused queues (decision 0029): their jobs are refused here and fetchers leave them out.
        var paused: Set<String> = []
        /// Fetchers waiting in ``activeQueues(among:)`` for one of their queues to be resumed.
        var pauseWaiters: [CheckedContinuation<[String]?, Never>] = []
    }

    private let selection: QueueSelection
    private let state = Mutex(State())

    init(selection: QueueSelection) {
        self.selection = selection
    }

    /// Jobs waiting.
    var count: Int { state.withLock { $0.count } }

    /// Adds jobs; wakes waiting runners.
    /// - Returns: the jobs refused because the buffer is closed or their queue is paused (to be handed back).
    func put(_ jobs: [FetchedJob]) -> [FetchedJob] {
        var wake: [(CheckedContinuation<FetchedJob?, Never>, FetchedJob)] = []
        let refused: [FetchedJob] = state.withLock { state in
            if state.closed { return jobs }
            var refused: [FetchedJob] = []
            for job in jobs {
                if state.paused.contains(job.queue) {
                    refused.append(job)
                } else {
                    state.queues[job.queue, default: []].append(job)
                    state.count += 1
                }
            }
            while !state.takers.isEmpty, let job = Self.pop(&state, selection) {
                wake.append((state.takers.removeFirst(), job))
            }
            return refused
        }
        for (continuation, job) in wake { continuation.resume(returning: job) }
        return refused
    }

    /// The next job by the selection rule, waiting if none; nil once closed.
    func take() async -> FetchedJob? {
        await withCheckedContinuation { continuation in
            let (job, room) = state.withLock { state -> (FetchedJob??, [CheckedContinuation<Void, Never>]) in
                if state.closed { return (.some(nil), []) }
                if let job = Self.pop(&state, selection) {
                    var room: [CheckedContinuation<Void, Never>] = []
                    if state.roomWaiters.contains(where: { state.count < $0.limit }) {
                        let count = state.count
                        room = state.roomWaiters.filter { count < $0.limit }.map(\.continuation)
                        state.roomWaiters.removeAll { count < $0.limit }
                    }
                    return (.some(job), room)
                }
                state.takers.append(continuation)
                return (nil, [])
            }
            for waiter in room { waiter.resume() }
            if let job { continuation.resume(returning: job) }
        }
    }

    /// Returns once fewer than `limit` jobs wait (or the buffer is closed).
    func waitForRoom(below limit: Int) async {
        await withCheckedContinuation { continuation in
            let ready = state.withLock { state -> Bool in
                if state.closed || state.count < limit { return true }
                state.roomWaiters.append((limit, continuation))
                return false
            }
            if ready { continuation.resume() }
        }
    }

    /// Sets which queues are paused. Jobs of a newly paused queue waiting here are withdrawn (to be handed back, so
    /// they wait in Redis as ready jobs, not here), later ``put(_:)``s refuse that queue's jobs, and fetchers
    /// waiting in ``activeQueues(among:)`` look again.
    /// - Returns: the withdrawn jobs, and the queues paused and resumed by this call.
    func setPaused(_ queues: Set<String>) -> (withdrawn: [FetchedJob], paused: Set<String>, resumed: Set<String>) {
        var room: [CheckedContinuation<Void, Never>] = []
        var waiters: [CheckedContinuation<[String]?, Never>] = []
        let result: ([FetchedJob], Set<String>, Set<String>) = state.withLock { state in
            let paused = queues.subtracting(state.paused)
            let resumed = state.paused.subtracting(queues)
            if paused.isEmpty && resumed.isEmpty { return ([], [], []) }
            state.paused = queues
            var withdrawn: [FetchedJob] = []
            for queue in paused {
                guard let list = state.queues[queue] else { continue }
                let head = state.heads[queue] ?? 0
                withdrawn += list[head...]
                state.count -= list.count - head
                state.queues[queue] = []
                state.heads[queue] = 0
            }
            let count = state.count
            room = state.roomWaiters.filter { count < $0.limit }.map(\.continuation)
            state.roomWaiters.removeAll { count < $0.limit }
            waiters = state.pauseWaiters
            state.pauseWaiters = []
            return (withdrawn, paused, resumed)
        }
        for waiter in room { waiter.resume() }
        for waiter in waiters { waiter.resume(returning: nil) }
        return result
    }

    /// `names` without the paused queues, in the same order, waiting while every one of them is paused; empty once
    /// the buffer is closed.
    func activeQueues(among names: [String]) async -> [String] {
        while true {
            let active: [String]? = await withCheckedContinuation { (continuation: CheckedContinuation<[String]?, Never>) in
                let now: [String]?? = state.withLock { state in
                    if state.closed { return [] }
                    let active = names.filter { !state.paused.contains($0) }
                    if !active.isEmpty { return active }
                    state.pauseWaiters.append(continuation)
                    return .none
                }
                if case .some(let result) = now { continuation.resume(returning: result) }
            }
            if let active { return active }
        }
    }

    /// Stops the buffer: waiting runners get nil, and the jobs still waiting are returned.
    func close() -> [FetchedJob] {
        let (takers, room, left, waiters) = state.withLock { state in
            state.closed = true
            var left: [FetchedJob] = []
            for (queue, jobs) in state.queues { left += jobs[(state.heads[queue] ?? 0)...] }
            state.queues = [:]
            state.heads = [:]
            state.count = 0
            let takers = state.takers
            state.takers = []
            let room = state.roomWaiters.map(\.continuation)
            state.roomWaiters = []
            let waiters = state.pauseWaiters
            state.pauseWaiters = []
            return (takers, room, left, waiters)
        }
        for taker in takers { taker.resume(returning: nil) }
        for waiter in room { waiter.resume() }
        for waiter in waiters { waiter.resume(returning: nil) }
        return left
    }

    /// The next job, by the selection's rule when jobs of several queues wait.
    ///
    /// With one queue waiting (the usual case) that queue is taken without asking the selection, which would choose
    /// it too but at the cost of a random number and an array. The state is read and changed in place: a copy of
    /// its dictionaries held across the change made each pop copy them whole (session 6 profile).
    private static func pop(_ state: inout State, _ selection: QueueSelection) -> FetchedJob? {
        guard state.count > 0 else { return nil }
        var only: String?
        var several = false
        for (queue, list) in state.queues where (state.heads[queue] ?? 0) < list.count {
            if only == nil {
                only = queue
            } else {
                several = true
                break
            }
        }
        let picked = several ? selection.pick(among: { (state.heads[$0] ?? 0) < (state.queues[$0]?.count ?? 0) }) : only
        guard let queue = picked else { return nil }
        let head = state.heads[queue] ?? 0
        let job = state.queues[queue]![head]
        state.count -= 1
        if head + 1 == state.queues[queue]!.count {
            state.queues[queue]!.removeAll(keepingCapacity: true)
            state.heads[queue] = 0
        } else {
            state.heads[queue] = head + 1
        }
        return job
    }
}

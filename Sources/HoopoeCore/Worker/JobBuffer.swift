import Synchronization

/// Fetched jobs waiting for a free slot, per queue, with the queue chosen by the selection's rule.
///
/// Runners wait in ``take()``; the fetcher (on a Redis Cluster, one per queue) waits in ``waitForRoom(below:)``
/// until the buffer is low, so a worker holds at most about `prefetch` jobs it is not running. Closing wakes everyone and returns
/// what was left, for handing back.
final class JobBuffer: Sendable {
    private struct State {
        var queues: [String: [FetchedJob]] = [:]
        var heads: [String: Int] = [:]
        var count = 0
        var closed = false
        var takers: [CheckedContinuation<FetchedJob?, Never>] = []
        var roomWaiters: [(limit: Int, continuation: CheckedContinuation<Void, Never>)] = []
    }

    private let selection: QueueSelection
    private let state = Mutex(State())

    init(selection: QueueSelection) {
        self.selection = selection
    }

    /// Jobs waiting.
    var count: Int { state.withLock { $0.count } }

    /// Adds jobs; wakes waiting runners.
    /// - Returns: the jobs refused because the buffer is closed (to be handed back).
    func put(_ jobs: [FetchedJob]) -> [FetchedJob] {
        var wake: [(CheckedContinuation<FetchedJob?, Never>, FetchedJob)] = []
        let refused: [FetchedJob] = state.withLock { state in
            if state.closed { return jobs }
            for job in jobs { state.queues[job.queue, default: []].append(job) }
            state.count += jobs.count
            while !state.takers.isEmpty, let job = Self.pop(&state, selection) {
                wake.append((state.takers.removeFirst(), job))
            }
            return []
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

    /// Stops the buffer: waiting runners get nil, and the jobs still waiting are returned.
    func close() -> [FetchedJob] {
        let (takers, room, left) = state.withLock { state in
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
            return (takers, room, left)
        }
        for taker in takers { taker.resume(returning: nil) }
        for waiter in room { waiter.resume() }
        return left
    }

    private static func pop(_ state: inout State, _ selection: QueueSelection) -> FetchedJob? {
        guard state.count > 0 else { return nil }
        let queues = state.queues
        let heads = state.heads
        guard let queue = selection.pick(among: { (heads[$0] ?? 0) < (queues[$0]?.count ?? 0) }) else { return nil }
        let head = state.heads[queue] ?? 0
        let job = state.queues[queue]![head]
        state.count -= 1
        if head + 1 == state.queues[queue]!.count {
            state.queues[queue] = []
            state.heads[queue] = 0
        } else {
            state.heads[queue] = head + 1
        }
        return job
    }
}

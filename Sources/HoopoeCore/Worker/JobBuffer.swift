import Synchronization

/// Fetched jobs waiting for a free slot, per queue, with the queue chosen by the selection's rule.
///
/// Runners wait in ``take()``; the fetcher (on a Redis Cluster, one per queue) waits in ``waitForRoom(below:)``
/// until the buffer is low, so a worker holds at most about `prefetch` jobs it is not running (`maxPrefetch` while
/// short jobs outrun the fetches: ``FetchDepth``). Closing wakes everyone and returns what was left, for handing
/// back. It also knows the paused queues (``setPaused(_:)``), so that a job of a paused queue is never taken to run:
/// the check and the put are one step under the buffer's lock.
final class JobBuffer: Sendable {
    /// One queue's waiting jobs: those from `head` on (taken jobs are dropped when the lane empties, not one by one).
    private struct Lane {
        let queue: String
        var jobs: [FetchedJob] = []
        var head = 0
        var waiting: Int { jobs.count - head }
    }

    private struct State {
        /// The queues' lanes, in the order their first job came; a pop walks this array, hashing no queue name.
        var lanes: [Lane] = []
        /// Each queue's lane in ``lanes``.
        var laneIndex: [String: Int] = [:]
        var count = 0
        var closed = false
        /// Unchecked: a checked continuation allocates its canary, and a runner waits here for nearly every job when the
        /// buffer runs dry between fetches. Each is resumed once: removed from here under the lock by whoever resumes it.
        var takers: [UnsafeContinuation<FetchedJob?, Never>] = []
        /// Fetchers waiting in ``waitForRoom(below:)``. Unchecked too: every take looks here (``roomMade(_:)``), and
        /// a checked continuation's layout is opaque, so that look went through its value witnesses (~300
        /// instructions a job, callgrind, session 25).
        var roomWaiters: [(limit: Int, continuation: UnsafeContinuation<Void, Never>)] = []
        /// Paused queues (decision 0029): their jobs are refused here and fetchers leave them out.
        var paused: Set<String> = []
        /// Fetchers waiting in ``activeQueues(among:)`` for one of their queues to be resumed.
        var pauseWaiters: [CheckedContinuation<[String]?, Never>] = []
        /// The draws of the weighted pick when several queues have jobs waiting: one a job taken, so not the system
        /// generator's `getrandom` call (``SplitMix64``).
        var random = SplitMix64()
    }

    private let selection: QueueSelection
    private let state = Mutex(State())
    /// How many jobs the fetch loops keep here now (``FetchDepth/current``; on a cluster, that of the loop that fetched
    /// last): recovery claims into the room below it (``room(keepingAtLeast:)``). Not under the lock: one store a
    /// fetch, read once a recovery round, and a stale value only moves one round's claim.
    private let fetchDepth = Atomic<Int>(0)

    init(selection: QueueSelection) {
        self.selection = selection
    }

    /// Jobs waiting.
    var count: Int { state.withLock { $0.count } }

    /// Notes a fetch loop's depth after its fetch (``FetchDepth/current``).
    func setFetchDepth(_ depth: Int) {
        fetchDepth.store(depth, ordering: .relaxed)
    }

    /// The jobs this buffer has room for below the fetch loops' depth, and never below `floor` (the worker's
    /// `prefetch`): what recovery claims now. A deep worker drains a backlog of short jobs and holds up to
    /// `maxPrefetch`, so below `prefetch` alone it often had no room, and a dead worker's jobs waited rounds for it
    /// (decision 0071).
    func room(keepingAtLeast floor: Int) -> Int {
        max(0, max(floor, fetchDepth.load(ordering: .relaxed)) - count)
    }

    /// Adds jobs; wakes waiting runners.
    /// - Returns: the jobs refused because the buffer is closed or their queue is paused (to be handed back).
    func put(_ jobs: [FetchedJob]) -> [FetchedJob] {
        var wake: [(UnsafeContinuation<FetchedJob?, Never>, FetchedJob)] = []
        let refused: [FetchedJob] = state.withLock { state in
            if state.closed { return jobs }
            var refused: [FetchedJob] = []
            // A fetch's jobs come grouped by queue: the lane is looked up when the queue changes, not per job.
            var lastQueue: String?
            var lane = 0
            for job in jobs {
                if job.queue != lastQueue {
                    if !state.paused.isEmpty && state.paused.contains(job.queue) {
                        refused.append(job)
                        continue
                    }
                    lane = Self.lane(&state, job.queue)
                    lastQueue = job.queue
                }
                state.lanes[lane].jobs.append(job)
                state.count += 1
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
        // Under load a job is nearly always waiting: taken without a continuation.
        if let ready = takeWaiting() { return ready }
        return await withUnsafeContinuation { continuation in
            let (job, room) = state.withLock { state -> (FetchedJob??, [UnsafeContinuation<Void, Never>]) in
                if state.closed { return (.some(nil), []) }
                if let job = Self.pop(&state, selection) { return (.some(job), Self.roomMade(&state)) }
                state.takers.append(continuation)
                return (nil, [])
            }
            for waiter in room { waiter.resume() }
            if let job { continuation.resume(returning: job) }
        }
    }

    /// The next job if one waits (`.some(nil)` once closed), waking the fetchers the room it leaves is for; nil when
    /// none waits.
    private func takeWaiting() -> FetchedJob?? {
        let (job, room) = state.withLock { state -> (FetchedJob??, [UnsafeContinuation<Void, Never>]) in
            if state.closed { return (.some(nil), []) }
            guard let job = Self.pop(&state, selection) else { return (nil, []) }
            return (.some(job), Self.roomMade(&state))
        }
        for waiter in room { waiter.resume() }
        return job
    }

    /// The fetchers waiting for room that there now is, removed from the waiters.
    private static func roomMade(_ state: inout State) -> [UnsafeContinuation<Void, Never>] {
        guard state.roomWaiters.contains(where: { state.count < $0.limit }) else { return [] }
        let count = state.count
        let room = state.roomWaiters.filter { count < $0.limit }.map(\.continuation)
        state.roomWaiters.removeAll { count < $0.limit }
        return room
    }

    /// Returns once fewer than `limit` jobs wait (or the buffer is closed).
    func waitForRoom(below limit: Int) async {
        await withUnsafeContinuation { continuation in
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
        var room: [UnsafeContinuation<Void, Never>] = []
        var waiters: [CheckedContinuation<[String]?, Never>] = []
        let result: ([FetchedJob], Set<String>, Set<String>) = state.withLock { state in
            let paused = queues.subtracting(state.paused)
            let resumed = state.paused.subtracting(queues)
            if paused.isEmpty && resumed.isEmpty { return ([], [], []) }
            state.paused = queues
            var withdrawn: [FetchedJob] = []
            for queue in paused {
                guard let lane = state.laneIndex[queue] else { continue }
                withdrawn += state.lanes[lane].jobs[state.lanes[lane].head...]
                state.count -= state.lanes[lane].waiting
                state.lanes[lane].jobs = []
                state.lanes[lane].head = 0
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

    /// Takes job `entryID` of `queue` out of the buffer if it waits here (a cancel of a job not started, decision
    /// 0089): no runner will take it. Every copy goes (recovery can claim this worker's own lapsed entry again), the
    /// first is returned. Nil when it is not waiting here (taken by a runner, or never fetched here).
    func withdraw(queue: String, entryID: String) -> FetchedJob? {
        var room: [UnsafeContinuation<Void, Never>] = []
        let job: FetchedJob? = state.withLock { state in
            guard let lane = state.laneIndex[queue] else { return nil }
            let waiting = state.lanes[lane].jobs[state.lanes[lane].head...]
            guard let first = waiting.first(where: { $0.entryID == entryID }) else { return nil }
            let kept = waiting.filter { $0.entryID != entryID }
            state.count -= waiting.count - kept.count
            state.lanes[lane].jobs = kept
            state.lanes[lane].head = 0
            room = Self.roomMade(&state)
            return first
        }
        for waiter in room { waiter.resume() }
        return job
    }

    /// Takes every job of `queue` whose entry id is in `entryIDs` out of the buffer (``withdraw(queue:entryID:)`` for
    /// many ids at once): one lock and one pass over the lane. A lease renewal withdraws the ids it found settled or
    /// taken, about one a job the worker ran since the last round, and one call each took the lock and scanned the lane
    /// (callgrind, session 62).
    /// - Returns: the ids of the jobs withdrawn; empty, with no lock taken, when `entryIDs` is.
    func withdraw(queue: String, entryIDs: Set<String>) -> Set<String> {
        if entryIDs.isEmpty { return [] }
        var room: [UnsafeContinuation<Void, Never>] = []
        let withdrawn: Set<String> = state.withLock { state in
            guard let lane = state.laneIndex[queue] else { return [] }
            let jobs = state.lanes[lane].jobs, head = state.lanes[lane].head
            // Usually none of them waits here: found so, nothing is copied.
            guard let first = jobs[head...].firstIndex(where: { entryIDs.contains($0.entryID) }) else { return [] }
            var withdrawn: Set<String> = [jobs[first].entryID]
            var kept = Array(jobs[head..<first])
            for job in jobs[(first + 1)...] {
                if entryIDs.contains(job.entryID) {
                    withdrawn.insert(job.entryID)
                } else {
                    kept.append(job)
                }
            }
            state.count -= state.lanes[lane].waiting - kept.count
            state.lanes[lane].jobs = kept
            state.lanes[lane].head = 0
            room = Self.roomMade(&state)
            return withdrawn
        }
        for waiter in room { waiter.resume() }
        return withdrawn
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
            for lane in state.lanes { left += lane.jobs[lane.head...] }
            state.lanes = []
            state.laneIndex = [:]
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

    /// The lane of `queue`, made on its first job.
    private static func lane(_ state: inout State, _ queue: String) -> Int {
        if let lane = state.laneIndex[queue] { return lane }
        state.lanes.append(Lane(queue: queue))
        state.laneIndex[queue] = state.lanes.count - 1
        return state.lanes.count - 1
    }

    /// The next job, by the selection's rule when jobs of several queues wait.
    ///
    /// With one queue waiting (the usual case) that queue is taken without asking the selection, which would choose
    /// it too but at the cost of a random number and an array. The lanes are walked by position and changed in place:
    /// a copy of the state held across the change made each pop copy it whole, and a dictionary keyed by queue name
    /// hashed the name several times a pop (session 6 and 8 profiles).
    private static func pop(_ state: inout State, _ selection: QueueSelection) -> FetchedJob? {
        guard state.count > 0 else { return nil }
        var only: Int?
        var several = false
        for lane in state.lanes.indices where state.lanes[lane].waiting > 0 {
            if only == nil {
                only = lane
            } else {
                several = true
                break
            }
        }
        let picked: Int?
        if several {
            // Names, not the lanes: a copy of the lanes alive across the change below would make it copy them all.
            let available = state.lanes.filter { $0.waiting > 0 }.map(\.queue)
            let unit = Double.random(in: 0..<1, using: &state.random)
            picked = selection.pick(among: { available.contains($0) }, unit: unit).flatMap { state.laneIndex[$0] }
        } else {
            picked = only
        }
        guard let lane = picked else { return nil }
        // Moved out, an empty job left in its place (dropped with the lane's others), instead of copied: a copy
        // retained the job's entry id and bytes, and the lane's later release of its own copy released them again.
        var job = FetchedJob.vacated
        swap(&job, &state.lanes[lane].jobs[state.lanes[lane].head])
        state.count -= 1
        if state.lanes[lane].head + 1 == state.lanes[lane].jobs.count {
            state.lanes[lane].jobs.removeAll(keepingCapacity: true)
            state.lanes[lane].head = 0
        } else {
            state.lanes[lane].head += 1
        }
        return job
    }
}

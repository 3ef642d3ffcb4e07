import Foundation
import Logging
import Redis
import Synchronization

/// Acknowledges finished jobs in batches: whoever finishes a job while no batch is in flight sends one
/// (group commit), and jobs finishing meanwhile ride in the next. Under load a batch carries many jobs
/// for one Lua call; when idle, a lone job is acknowledged at once.
///
/// Under load a batch may also linger (decision 0037): when the batch just sent carried several jobs, other
/// runners are still mid-job, and fewer than ``target`` acks are pending, the pending ones wait up to ``linger``
/// (500 µs) for more: the job whose finish brings them to ``target`` sends them, as does the first to finish after
/// the linger's time; when no job finishes, a backstop (``LingerClock``, a thread of its own) sends them at twice
/// the linger's time. On the peers' workload batches grow from ~18 to ~40 jobs (the 7 commands of a batch:
/// 0.44 → 0.22 a job). What it costs: an acknowledgement (its history record, its `notify` answer, the lease's
/// release) comes up to ~0.5 ms later under load (1 ms when no job finishes), and the worker measured +1.5–2 µs of
/// CPU a job (decision 0037). Job start never waits for it (runners take from the buffer, the fetch waits for room
/// in it). A lone job, a light load and ``drain()`` never linger.
final class Acknowledger: Sendable {
    /// A finished job to acknowledge.
    typealias Ack = Acknowledgement

    private struct State {
        var pending: [Ack] = []
        /// A flush loop runs (builds or sends a batch); acks added meanwhile wait for it.
        var flushing = false
        var idleWaiters: [CheckedContinuation<Void, Never>] = []
        /// Acks in the batch sent last; 0 after an idle moment or a linger, so neither lingers twice in a row.
        var lastBatch = 0
        /// Since when pending acks linger (no flush loop runs meanwhile); nil when none do.
        var lingerSince: ContinuousClock.Instant?
        var draining = false
    }

    /// The longest an acknowledgement lingers.
    let linger: Duration
    /// Pending acks that end a linger at once.
    let target: Int
    /// Jobs running now (the worker's other runners): a linger pays only while some are mid-job.
    private let busy: @Sendable () -> Int
    private let clock = ContinuousClock()
    private let backstop = LingerClock()

    private let jobs: JobQueue
    private let logger: Logger
    private let state = Mutex(State())
    /// Called with each batch once sent, acknowledged or not, so the worker stops renewing their leases:
    /// a batch whose acknowledgement failed must be left to expire and run again, not be held forever.
    private let onSettled: @Sendable ([Ack]) -> Void

    init(
        jobs: JobQueue, logger: Logger, linger: Duration = .microseconds(500), target: Int = 64, busy: @escaping @Sendable () -> Int = { 0 },
        onSettled: @escaping @Sendable ([Ack]) -> Void
    ) {
        self.jobs = jobs
        self.logger = logger
        self.linger = linger
        self.target = max(1, target)
        self.busy = busy
        self.onSettled = onSettled
        backstop.fire = { [weak self] in self?.backstopPassed() }
    }

    /// Whether pending acks linger now (for tests).
    var isLingering: Bool { state.withLock { $0.lingerSince != nil } }

    /// Acks not yet taken into a batch (for tests).
    var pendingCount: Int { state.withLock { $0.pending.count } }

    /// Queues an acknowledgement; sends a batch now unless one is already on its way, or lingering acks wait for more.
    func add(_ ack: Ack) {
        let start = state.withLock { state -> Bool in
            state.pending.append(ack)
            if state.flushing { return false }
            if let since = state.lingerSince {
                guard state.pending.count >= target || clock.now - since >= linger else { return false }
                state.lingerSince = nil
            }
            state.flushing = true
            return true
        }
        // Started on this thread: the batch is built here at once and only the wait for Redis leaves it, instead
        // of the whole loop waiting for a turn in the thread pool.
        if start { Task.immediate { await self.flushLoop() } }
    }

    /// Returns when nothing is pending or in flight. Lingering acks are sent at once, and none linger after.
    func drain() async {
        await withCheckedContinuation { continuation in
            let (idle, start) = state.withLock { state -> (Bool, Bool) in
                state.draining = true
                var start = false
                if state.lingerSince != nil {
                    state.lingerSince = nil
                    state.flushing = true
                    start = true
                }
                if !state.flushing && state.pending.isEmpty { return (true, false) }
                state.idleWaiters.append(continuation)
                return (false, start)
            }
            if start { Task.immediate { await self.flushLoop() } }
            if idle { continuation.resume() }
        }
    }

    /// A backstop's deadline passed: ends a linger that no finishing job ended in its time. The deadline may be an
    /// earlier linger's (the clock is not disarmed when jobs end one): a younger linger gets its own.
    private func backstopPassed() {
        let (start, rearm) = state.withLock { state -> (Bool, ContinuousClock.Instant?) in
            guard let since = state.lingerSince else { return (false, nil) }
            if clock.now - since < linger { return (false, since + linger * 2) }
            state.lingerSince = nil
            state.flushing = true
            return (true, nil)
        }
        if let rearm { backstop.arm(at: rearm) }
        if start { Task.immediate { await self.flushLoop() } }
    }

    private enum Next {
        case send([Ack])
        case linger(ContinuousClock.Instant)
        case idle([CheckedContinuation<Void, Never>])
    }

    private func flushLoop() async {
        while true {
            // Read outside this lock (the lifecycle has its own).
            let running = busy()
            let next = state.withLock { state -> Next in
                let batch = state.pending
                if !batch.isEmpty && batch.count < target && state.lastBatch >= 2 && running >= 2 && !state.draining {
                    let now = clock.now
                    state.flushing = false
                    state.lingerSince = now
                    state.lastBatch = 0
                    return .linger(now + linger * 2)
                }
                state.pending.removeAll(keepingCapacity: true)
                state.lastBatch = batch.count
                if !batch.isEmpty { return .send(batch) }
                // Nothing left: stop, under the lock, so the next add() starts a new loop.
                state.flushing = false
                let waiters = state.idleWaiters
                state.idleWaiters = []
                return .idle(waiters)
            }
            switch next {
            case .send(let batch):
                await send(batch)
                onSettled(batch)
            case .linger(let backstopAt):
                backstop.arm(at: backstopAt)
                return
            case .idle(let waiters):
                for waiter in waiters { waiter.resume() }
                return
            }
        }
    }

    /// Sends a batch: one script call per queue and counter, the queues at once. A batch of one queue (the usual
    /// case) is sent from this task, without a task group: a child task per batch was a hop of its own.
    private func send(_ batch: [Ack]) async {
        guard let first = batch.first?.queue else { return }
        let now = Date()
        if batch.allSatisfy({ $0.queue == first }) {
            await send(batch, queue: first, at: now)
            return
        }
        var byQueue: [String: [Ack]] = [:]
        for ack in batch { byQueue[ack.queue, default: []].append(ack) }
        await withTaskGroup(of: Void.self) { group in
            for (queue, acks) in byQueue {
                group.addTask { await self.send(acks, queue: queue, at: now) }
            }
        }
    }

    /// One queue's acknowledgements, one script call per counter (`processed`, `discarded`, `deferred`).
    private func send(_ acks: [Ack], queue: String, at now: Date) async {
        let first = acks[0].counter
        let byCounter = acks.allSatisfy { $0.counter == first } ? [first: acks] : Dictionary(grouping: acks, by: \.counter)
        for (counter, selected) in byCounter {
            do {
                try await jobs.store.acknowledge(selected, queue: queue, counter: counter, at: now)
            } catch let error as RedisError where error.code == .notReplicated {
                // The acknowledgement ran on the primary: the jobs are done there. Only the replicas'
                // confirmation (REDIS_WAIT_REPLICAS) is missing; a failover before they have it brings
                // the deliveries back and the jobs run again after their lease (at least once).
                logger.warning(
                    "acknowledged \(selected.count) jobs on the primary, but too few replicas confirmed it; if the primary fails over now they run again after their lease",
                    metadata: ["queue": "\(queue)", "error": "\(error)"])
            } catch {
                // The jobs stay delivered-but-unacknowledged: after their lease another worker
                // runs them again. At-least-once is kept; the error is worth a log line.
                logger.error("acknowledging \(selected.count) jobs failed; they will run again after their lease", metadata: ["queue": "\(queue)", "error": "\(error)"])
            }
        }
    }
}

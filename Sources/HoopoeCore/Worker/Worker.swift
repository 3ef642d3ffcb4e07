import Foundation
import HoopoeJSON
import Logging
import Redis
import Synchronization

/// Runs jobs: fetches them from the queues' streams, runs their handlers, and settles each one
/// (acknowledge, retry, dead, discard) — at least once, never lost.
///
/// What makes it crash-safe: a job stays in Redis, delivered to this worker's consumer name, until its
/// handler finished and the acknowledgement landed. If the process dies, its deliveries stop being
/// renewed, and after the lease any worker's recovery step claims them and runs them again, counting
/// the lost run as an attempt (so a job that kills its worker ends in the dead set, not in a loop).
///
/// What makes it fast: fetch is one blocking `XREADGROUP` for up to `prefetch` jobs across all queues;
/// acknowledgements are batched (one Lua call for many jobs); the Redis client pipelines whatever the
/// running handlers send at the same moment.
///
/// Lifecycle (``WorkerState``): ``run()`` until ``shutdown()`` (stop fetching, let running jobs finish within
/// `shutdownTimeout`, hand the rest back to their queues at once) or ``shutdownNow()`` (hand everything back at
/// once); ``quiet()`` stops fetching only. Each of these is an event that moves the state forward; the fetch loop,
/// the background steps and the shutdown timer wait for the state they care about, none polls.
public final class Worker: Sendable {
    /// The engine this worker serves.
    public let jobs: JobQueue
    /// The worker's options.
    public let options: WorkerOptions
    let registry: JobRegistry
    /// The one redaction rule (``PayloadRedaction``), for the dead-set copies this worker writes.
    let redaction: PayloadRedaction
    let logger: Logger
    let buffer: JobBuffer
    let acknowledger: Acknowledger
    let held = HeldJobs()
    let watchdog = TimeoutWatchdog()
    let lifecycle: WorkerLifecycle
    /// The fetch connection's `CLIENT ID`, to wake its blocked read when fetching stops.
    private let fetchClientID = Mutex<String?>(nil)
    /// Hand-backs started by ``shutdown()``; ``run()`` waits for them before it returns.
    private let handBacks = Mutex<[Task<Void, Never>]>([])
    private let metrics: WorkerMetrics
    var metricsHook: @Sendable (String, String, Double) -> Void { metrics.jobSettled }

    /// - Parameters:
    ///   - jobs: the engine (its Redis client and namespace).
    ///   - registry: the job types this worker runs.
    ///   - options: queues, concurrency, lease, timeouts.
    ///   - logger: where job start, finish and failure lines go.
    ///   - metrics: observer of job outcomes (counters, durations); none by default.
    public init(jobs: JobQueue, registry: JobRegistry, options: WorkerOptions, logger: Logger, metrics: WorkerMetrics = WorkerMetrics()) {
        self.jobs = jobs
        self.registry = registry
        redaction = PayloadRedaction(registry: registry)
        self.options = options
        self.logger = logger
        self.metrics = metrics
        buffer = JobBuffer(selection: options.queues)
        lifecycle = WorkerLifecycle(runners: options.concurrency)
        let held = self.held
        acknowledger = Acknowledger(jobs: jobs, logger: logger) { acks in held.release(acks.map { ($0.queue, $0.entryID) }) }
    }

    /// Jobs running now.
    public var busy: Int { lifecycle.busy }

    /// Where the worker is in its life.
    public var state: WorkerState { lifecycle.current }

    /// Stops fetching; running and prefetched jobs still run (Sidekiq's "quiet", on SIGTSTP).
    public func quiet() {
        guard lifecycle.quiet() else { return }
        logger.info("quiet: no new jobs will be fetched; running jobs continue")
        let fetchClient = fetchClientID.withLock { $0 }
        Task { await wakeFetcher(fetchClient) }
    }

    /// Stops: no new jobs, running jobs get `shutdownTimeout` to finish, the rest go back to their queue.
    /// ``run()`` returns when that is done.
    public func shutdown() {
        guard lifecycle.drain() else { return }
        let left = buffer.close()
        logger.info("shutting down: \(busy) running, \(left.count) prefetched handed back")
        let fetchClient = fetchClientID.withLock { $0 }
        let task = Task {
            await wakeFetcher(fetchClient)
            await handBack(left)
        }
        handBacks.withLock { $0.append(task) }
    }

    /// Stops at once: running jobs are interrupted and handed back (a second SIGTERM).
    public func shutdownNow() {
        shutdown()
        guard let running = lifecycle.stopNow() else { return }
        for job in running { job.interrupt() }
    }

    /// Wakes the blocked `XREADGROUP` now instead of waiting out its block time: it returns empty-handed, and the
    /// fetch loop sees that fetching has stopped.
    private func wakeFetcher(_ fetchClient: String?) async {
        if let fetchClient { await jobs.store.unblock(clientID: fetchClient) }
    }

    /// Runs until shut down. Throws only if the queues cannot be set up (Redis unreachable at start).
    public func run() async throws {
        try await prepareQueues()
        logger.info("worker \(options.consumer) serving \(options.queues.names.joined(separator: ", ")) with concurrency \(options.concurrency)")
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.fetchLoop() }
            group.addTask { await self.backgroundSteps() }
            group.addTask { await self.stopWhenShutdownTimesOut() }
            group.addTask { await self.watchdog.run() }
            for _ in 0..<options.concurrency {
                group.addTask { await self.runnerLoop() }
            }
            // Runners end when the buffer closes and their job is done; the last one makes the worker stopped.
            await self.lifecycle.wait(until: .stopped)
            self.watchdog.stop()
            group.cancelAll()
        }
        for task in handBacks.withLock({ $0 }) { await task.value }
        await acknowledger.drain()
        logger.info("worker \(options.consumer) stopped")
    }

    /// Creates each queue's consumer group (from the stream's start, so jobs enqueued before any worker
    /// existed are served) and records the queue names.
    private func prepareQueues() async throws {
        try await jobs.store.createGroups(queues: options.queues.names)
    }

    // MARK: - Loops

    private func fetchLoop() async {
        let connection = jobs.store.makeFetchConnection()
        defer { connection.close() }
        var failures = 0
        var knowsClientID = false
        while fetches {
            if !knowsClientID, let id = await jobs.store.clientID(of: connection) {
                fetchClientID.withLock { $0 = id }
                knowsClientID = true
            }
            await buffer.waitForRoom(below: max(1, options.prefetch / 2 + 1))
            if !fetches { break }
            let want = max(1, options.prefetch - buffer.count)
            do {
                // A missing group (the stream was deleted) is created again by the store before it throws.
                let fetched = try await jobs.store.fetch(
                    on: connection, consumer: options.consumer, count: want, block: options.fetchBlock, queues: options.queues.weightedOrder())
                failures = 0
                if fetched.isEmpty { continue }
                held.hold(fetched.map { ($0.queue, $0.entryID) })
                let refused = buffer.put(fetched)
                if !refused.isEmpty { await handBack(refused) }
            } catch {
                if !fetches { break }  // woken by CLIENT UNBLOCK at shutdown
                failures += 1
                knowsClientID = false  // a reconnect changes the client id
                logger.warning("fetch failed (attempt \(failures)); retrying", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: .milliseconds(min(2000, 50 * (1 << min(failures, 6)))))
            }
        }
    }

    private func runnerLoop() async {
        while let job = await buffer.take() {
            await execute(job)
        }
        lifecycle.runnerEnded()
    }

    /// Once shutdown begins, gives running jobs `shutdownTimeout`, then stops now: whatever still runs is
    /// interrupted and handed back. Cancelled by ``run()`` when every runner ended before that.
    private func stopWhenShutdownTimesOut() async {
        await lifecycle.wait(until: .draining)
        do {
            try await Task.sleep(for: options.shutdownTimeout)
        } catch {
            return
        }
        guard let late = lifecycle.stopNow(), !late.isEmpty else { return }
        logger.warning("\(late.count) jobs still running after \(options.shutdownTimeout): handing them back to their queues")
        for job in late { job.interrupt() }
    }

    /// Recovery, promotion and lease renewal, each on its own interval, until shutdown begins.
    private func backgroundSteps() async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.every(self.options.recoveryInterval, jitter: 0.2) { try await self.recover() } }
            group.addTask { await self.every(self.options.promoteInterval, jitter: 0.5) { try await self.promote() } }
            group.addTask { await self.every(self.options.lease / 3, jitter: 0) { try await self.renewLeases() } }
            await lifecycle.wait(until: .draining)
            group.cancelAll()
        }
    }

    /// Runs `body` every `interval` (± `jitter` of it) until cancelled; a step under way is finished first.
    private func every(_ interval: Duration, jitter: Double, _ body: @Sendable () async throws -> Void) async {
        while !Task.isCancelled {
            do {
                try await body()
            } catch {
                logger.warning("background step failed; will retry", metadata: ["error": "\(error)"])
            }
            let factor = 1 + jitter * Double.random(in: -1...1)
            try? await Task.sleep(for: interval * factor)
        }
    }

    // MARK: - Stopping

    /// Whether the fetch loop goes on: only while ``WorkerState/running`` (quiet and shutdown both stop it).
    private var fetches: Bool { lifecycle.current == .running }

    func register(_ job: RunningJob) {
        let stopping = lifecycle.register(job)
        watchdog.add(job)
        // Started after "stop now" (it was taken from the buffer just before it closed): hand it back too.
        if stopping { job.interrupt() }
    }

    func unregister(_ job: RunningJob) {
        watchdog.remove(job)
        lifecycle.unregister(job)
    }

    // MARK: - Background steps

    /// Claims jobs whose lease expired and queues them here, with their delivery counts. Claims at most
    /// what the buffer has room for, so one worker does not hoard a large orphaned backlog: the rest is
    /// left for the next sweep or for other workers.
    func recover() async throws {
        for queue in options.queues.names {
            while true {
                let room = options.prefetch - buffer.count
                if room <= 0 || lifecycle.current >= .draining { break }
                let limit = min(room, 100)
                let recovered = try await jobs.store.recover(queue: queue, consumer: options.consumer, lease: options.lease, limit: limit)
                if recovered.isEmpty { break }
                logger.warning("recovered \(recovered.count) jobs whose worker stopped renewing them", metadata: ["queue": "\(queue)"])
                held.hold(recovered.map { ($0.queue, $0.entryID) })
                let refused = buffer.put(recovered)
                if !refused.isEmpty { await handBack(refused) }
                if recovered.count < limit { break }
            }
        }
    }

    /// Moves due delayed jobs and retries of every queue to their stream (one round; ``run()`` calls it
    /// every `promoteInterval`). Safe to run from many workers at once: each job is promoted once.
    public func promote() async throws {
        for queue in options.queues.names {
            try await jobs.store.promote(queue: queue)
        }
    }

    /// Renews the lease of every job this worker holds (prefetched, running, awaiting acknowledgement).
    func renewLeases() async throws {
        for (queue, ids) in held.snapshot() where !ids.isEmpty {
            try await jobs.store.renewLeases(queue: queue, ids: ids, consumer: options.consumer)
        }
    }

    /// Puts jobs back on their queues at once, as new entries; their current deliveries are removed.
    /// Lost runs (deliveries beyond the first) are written into the envelope's attempt count; a promoted job stays
    /// marked as promoted.
    func handBack(_ fetched: [FetchedJob]) async {
        var byQueue: [String: [FetchedJob]] = [:]
        for job in fetched { byQueue[job.queue, default: []].append(job) }
        for (queue, list) in byQueue {
            let returned = list.map { job in
                if job.deliveries > 1, var envelope = try? JobEnvelope.decode(job.bytes) {
                    envelope.attempt = min(envelope.attempt, 1_000_000) + min(job.deliveries - 1, 1_000_000)
                    return (entryID: job.entryID, promoted: job.promoted, envelope: envelope.encoded())
                }
                return (entryID: job.entryID, promoted: job.promoted, envelope: job.bytes)
            }
            do {
                try await jobs.store.handBack(queue: queue, returned)
            } catch {
                logger.error("handing back \(list.count) jobs failed; they return after their lease", metadata: ["queue": "\(queue)", "error": "\(error)"])
            }
            // Either way this worker stops renewing them: handed back, or left for the lease to expire.
            held.release(list.map { ($0.queue, $0.entryID) })
        }
    }
}

/// The stream entries this worker holds, per queue: their leases are renewed until they are settled.
final class HeldJobs: Sendable {
    private let state = Mutex([String: Set<String>]())

    func hold(_ entries: [(String, String)]) {
        state.withLock { for (queue, id) in entries { $0[queue, default: []].insert(id) } }
    }

    func release(_ entries: [(String, String)]) {
        state.withLock { for (queue, id) in entries { $0[queue]?.remove(id) } }
    }

    func snapshot() -> [(String, [String])] {
        state.withLock { $0.map { ($0.key, Array($0.value)) } }
    }
}

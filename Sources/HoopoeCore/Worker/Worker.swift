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
/// What makes it fast: fetch is one blocking `XREADGROUP` for up to `prefetch` jobs across all queues (up to
/// `maxPrefetch` while short jobs outrun the fetches: ``FetchDepth``; on a Redis
/// Cluster, one per queue on its node: a read of streams in several slots is refused; decision 0026);
/// acknowledgements are batched (one Lua call for many jobs); the Redis client pipelines whatever the
/// running handlers send at the same moment; the handlers run on the shared connections' threads, so their calls and
/// replies wake no other thread (``runnerExecutors``, decision 0072).
///
/// Lifecycle (``WorkerState``): ``run()`` until ``shutdown()`` (stop fetching, let running jobs finish within
/// `shutdownTimeout`, hand the rest back to their queues at once) or ``shutdownNow()`` (hand everything back at
/// once); ``quiet()`` stops fetching only. Cancelling the task that runs ``run()`` is a ``shutdown()``. A queue paused
/// for all workers (``JobQueue/pause(queue:)``) is left out of the fetch within a second (``PauseWatch``). Each of
/// these is an event that moves the state forward; the fetch loop, the background steps and the shutdown timer wait
/// for the state they care about, none polls.
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
    let leases = Leases()
    /// Set by ``shutdownNow()``: hand-backs and acknowledgements stop being tried again.
    let retryCutoff = RetryCutoff()
    /// Which queues' settles Redis refuses for want of writes (`OOM`, `NOREPLICAS`, ...): a fetch loop pauses while a
    /// queue it reads is refused (``WriteRefusals``; on a cluster each loop reads one queue, so the other nodes' queues
    /// are served: decision 0111).
    let writeRefusals = WriteRefusals()
    /// Queues whose stream key held another type at start (``JobStore/WrongTypedStream``), said in the log then: the
    /// fetch loops start with them left out (``WrongTypedStreams``).
    private let wrongTypedAtStart = Mutex<[JobStore.WrongTypedStream]>([])
    /// How far this worker's clock may be ahead of Redis's, learnt by promotion: the early-arrival check allows for it.
    let clockLead = ClockLead()
    /// Puts jobs that will not run here back on their queues.
    let handBack: HandBack
    let watchdog: TimeoutWatchdog
    let lifecycle: WorkerLifecycle
    /// Each fetch connection's node and `CLIENT ID`, by fetcher, to wake its blocked read when fetching stops.
    private let fetchClients = Mutex<[Int: RedisConnection]>([:])
    /// Hand-backs started by ``shutdown()``; ``run()`` waits for them before it returns.
    private let handBacks = Mutex<[Task<Void, Never>]>([])
    private let metrics: WorkerMetrics
    /// Where the runners run: on the global pool, or during a backlog on the shared connections' threads (decision
    /// 0076).
    let placement: RunnerPlacement
    var metricsHook: @Sendable (String, String, Double?) -> Void { metrics.jobSettled }

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
        placement = RunnerPlacement(redis: jobs.store.redis)
        buffer = JobBuffer(selection: options.queues)
        lifecycle = WorkerLifecycle(runners: options.concurrency)
        watchdog = TimeoutWatchdog(slots: options.concurrency)
        let leases = self.leases
        handBack = HandBack(
            store: jobs.store, leases: leases, logger: logger, consumer: options.consumer, unsentRetry: options.unsentAcknowledgementRetry,
            cutoff: retryCutoff, writeRefusals: writeRefusals)
        acknowledger = Acknowledger(
            jobs: jobs, logger: logger, consumer: options.consumer, unsentRetry: options.unsentAcknowledgementRetry, cutoff: retryCutoff,
            writeRefusals: writeRefusals, clock: { [clockLead] queue in Date(timeIntervalSince1970: clockLead.redisNow(queue: queue)) }
        ) { acks in leases.release(acks.lazy.map { ($0.queue, $0.entryID, $0.held) }) }
    }

    /// The shared connections a worker's Redis client should have (``RedisConfiguration/poolSize``), as the client of
    /// `hoopoe worker` has: through a backlog its runners run on their threads, half on each (``RunnerPlacement``,
    /// decisions 0072 and 0076). Two measured faster than one and than three on the peers' job; the handlers' and the
    /// acknowledgements' calls share them.
    public static let sharedConnections = 2

    /// Jobs running now.
    public var busy: Int { lifecycle.busy }

    /// Where the worker is in its life.
    public var state: WorkerState { lifecycle.current }

    /// Stops fetching; running and prefetched jobs still run (Sidekiq's "quiet", on SIGTSTP).
    public func quiet() {
        guard lifecycle.quiet() else { return }
        logger.info("quiet: no new jobs will be fetched; running jobs continue")
        let fetchClients = fetchClients.withLock { Array($0.values) }
        Task { await wakeFetchers(fetchClients) }
    }

    /// Stops: no new jobs, running jobs get `shutdownTimeout` to finish, the rest go back to their queue.
    /// ``run()`` returns when that is done.
    ///
    /// The prefetched jobs' hand-back is logged when it is done, as it went: said at once as "handed back", the line
    /// came before the hand-back ran, and stood also when the hand-back then failed and the jobs waited out their lease.
    public func shutdown() {
        guard lifecycle.drain() else { return }
        let running = busy
        let fetchClients = fetchClients.withLock { Array($0.values) }
        // The buffer closes and the hand-back's task is listed in one step: closing it ends the runners, the last of
        // them stops the worker, and ``serve()`` then waits for the listed hand-backs. Listed after, it could be missed:
        // ``run()`` returned with the prefetched jobs not handed back, and they waited out their lease, an attempt lost.
        let left = handBacks.withLock { tasks -> [FetchedJob] in
            let left = buffer.close()
            // Both at once: a cluster primary that is gone holds its `CLIENT UNBLOCK` for the failover window, and the
            // prefetched jobs of every queue waited behind it.
            tasks.append(Task {
                async let woken: Void = wakeFetchers(fetchClients)
                let back = await handBack(left)
                await woken
                if left.isEmpty { return }
                if back {
                    logger.info("handed back \(left.count) prefetched jobs to their queues")
                } else {
                    logger.warning("\(left.count) prefetched jobs were not all handed back; those left return after their lease")
                }
            })
            return left
        }
        logger.info("shutting down: \(running) running, \(left.isEmpty ? "none prefetched" : "handing back \(left.count) prefetched")")
    }

    /// Stops at once: running jobs are interrupted and handed back (a second SIGTERM), and a hand-back or an
    /// acknowledgement Redis does not take is not tried again (``RetryCutoff``): those jobs return after their lease.
    public func shutdownNow() {
        retryCutoff.cutNow()
        shutdown()
        guard let running = lifecycle.stopNow() else { return }
        for job in running { job.interrupt() }
    }

    /// Wakes the blocked `XREADGROUP`s now instead of waiting out their block time: they return empty-handed, and
    /// the fetch loops see that fetching has stopped.
    private func wakeFetchers(_ connections: [RedisConnection]) async {
        for connection in connections {
            // Its id now: one learned at an earlier connect may be another client's since.
            if let id = connection.clientID { await jobs.store.unblock(clientID: String(id), on: connection.configuration.endpoint) }
        }
    }

    /// Runs until shut down. Throws only if the queues cannot be set up (Redis unreachable at start).
    ///
    /// Cancelling the task that runs it is a ``shutdown()``: running jobs get `shutdownTimeout`, prefetched ones go
    /// back to their queues, acknowledgements land, and then it returns. A `ServiceGroup` cancels its services when
    /// one of them fails; when the cancellation reached the loops themselves, the worker fetched and ran jobs on, its
    /// leases no longer renewed, and never returned (`WorkerCancellationTests`).
    public func run() async throws {
        try await prepareQueues()
        // Paused queues are known before the first fetch: a worker started while its queue is paused takes nothing.
        try await pauseWatch.round()
        placement.start()
        logger.info("worker \(options.consumer) serving \(options.queues.names.joined(separator: ", ")) with concurrency \(options.concurrency)")
        // An unstructured task does not inherit the caller's cancellation: inside it the loops end by the worker's own
        // states, as on SIGTERM, and the caller's cancellation only starts that shutdown. Made inside the handler's
        // operation, so a caller cancelled already has shut the worker down before its loops start (nothing fetched).
        await withTaskCancellationHandler {
            await Task { await serve() }.value
        } onCancel: {
            shutdown()
        }
        placement.stop()
        logger.info("worker \(options.consumer) stopped")
    }

    /// The worker's loops, from the first fetch until every runner ended and every acknowledgement landed.
    private func serve() async {
        // Renewal outlives everything else (decision 0032): jobs running while draining must stay this worker's, and so
        // must those the group's steps are still handing back when they are cancelled, and those whose acknowledgements
        // have not landed. So it is no task of the group: it is stopped after the group has ended and the
        // acknowledger has drained.
        let renewal = Task {
            await LeaseRenewal(store: jobs.store, leases: leases, buffer: buffer, consumer: options.consumer, lease: options.lease, logger: logger).run()
        }
        await withTaskGroup(of: Void.self) { group in
            if jobs.store.redis.isCluster {
                // A cluster: each queue's stream is read on its own, on its node (one read of streams in different
                // slots is refused); the buffer's weighted pick still decides which queue's job runs next.
                for (index, queue) in options.queues.names.enumerated() {
                    group.addTask { await self.fetchLoop(fetcher: index, queue: queue) }
                }
            } else {
                group.addTask { await self.fetchLoop(fetcher: 0, queue: nil) }
            }
            group.addTask { await self.backgroundSteps() }
            group.addTask { await self.stopWhenShutdownTimesOut() }
            group.addTask { await self.watchdog.run() }
            // Runners are tasks of their own, not the group's: a handler that ignores its timeout keeps its runner's task
            // (it runs there, RunningJob), which a new task replaces; the group must not wait for the old one.
            for slot in 0..<options.concurrency {
                startRunner(slot: slot) { await self.runnerLoop(slot: slot) }
            }
            // Runners end when the buffer closes and their job is done; the last one makes the worker stopped.
            await self.lifecycle.wait(until: .stopped)
            self.watchdog.stop()
            // The steps end after their current round (a hand-back in it lands first): the group waits for them.
            group.cancelAll()
        }
        // The hand-backs and the last acknowledgements land before renewal stops: a flight waiting for a failed primary
        // (up to the cluster's failover window) holds the other queues' flights behind it, and their jobs' leases,
        // unrenewed meanwhile, lapsed; another worker then ran those finished jobs again.
        for task in handBacks.withLock({ $0 }) { await task.value }
        await acknowledger.drain()
        renewal.cancel()
        await renewal.value
    }

    /// Creates each queue's consumer group (from the stream's start, so jobs enqueued before any worker
    /// existed are served) and records the queue names.
    ///
    /// A queue whose stream key holds another type (``JobStore/WrongTypedStream``) is named in the log and left out
    /// of fetching until the key is mended (``WrongTypedStreams``); the other queues are served. It ended the start
    /// (exit 2, "XGROUP CREATE: WRONGTYPE", naming no key), and with it every queue of the worker, whose restarts met
    /// the same key.
    private func prepareQueues() async throws {
        do {
            try await jobs.store.createGroups(queues: options.queues.names)
        } catch where JobStore.isWrongType(error) {
            let found = try await jobs.store.wrongTypedStreams(queues: options.queues.names)
            guard !found.isEmpty else { throw error }
            for stream in found { sayWrongTyped(stream) }
            wrongTypedAtStart.withLock { $0 = found }
        }
        // Stopped and killed workers' consumers, holding nothing (`JobStore+Consumers.swift`): a
        // failure costs a little memory, not the start. A queue left out has no group to prune.
        let leftOut = Set(wrongTypedAtStart.withLock { $0 }.map(\.queue))
        for queue in options.queues.names where !leftOut.contains(queue) {
            do {
                _ = try await jobs.store.pruneIdleConsumers(queue: queue, idle: options.consumerIdleLimit)
            } catch {
                logger.warning("could not delete idle consumers of earlier workers", metadata: ["queue": "\(queue)", "error": "\(error)"])
            }
        }
    }

    // MARK: - Loops

    /// Fetches until fetching stops: all queues in one read (`queue` nil), or on a cluster one queue, on a
    /// connection to its node made again after a failure (the slot may have moved).
    ///
    /// The rounds run on the fetch connection's own thread (``RedisConnection/executor``, decision 0061): a reply is
    /// turned into buffered jobs, and the next `XREADGROUP` written, where it was read, with no thread woken between
    /// one fetch and the next. Only the runners the jobs are for are woken.
    private func fetchLoop(fetcher: Int, queue: String?) async {
        var failures = RepeatedFailure()
        var receipts = FetchReceipts()
        var wrongTyped = WrongTypedStreams()
        let ownQueues = queue.map { [$0] } ?? options.queues.names
        wrongTyped.leaveOut(wrongTypedAtStart.withLock { $0 }.filter { ownQueues.contains($0.queue) })
        while fetches {
            let connection: RedisConnection
            if let queue {
                do {
                    connection = try await jobs.store.makeFetchConnection(queue: queue)
                } catch {
                    if !fetches { break }
                    receipts.failed(error)
                    await fetchFailed(&failures, error)
                    continue
                }
            } else {
                connection = jobs.store.makeFetchConnection()
            }
            let reconnect = await withTaskExecutorPreference(connection.executor) {
                await fetchRounds(fetcher: fetcher, queue: queue, on: connection, failures: &failures, receipts: &receipts, wrongTyped: &wrongTyped)
            }
            connection.close()
            if !reconnect { break }
        }
    }

    /// Fetches on `connection` until fetching stops or the buffer closes (false: the fetch loop ends), or, on a cluster,
    /// until a failure calls for a new connection (true: the queue's slot may live elsewhere now, and a new connection
    /// asks the map again). Elsewhere the connection reconnects by itself, and is kept.
    private func fetchRounds(
        fetcher: Int, queue: String?, on connection: RedisConnection, failures: inout RepeatedFailure, receipts: inout FetchReceipts,
        wrongTyped: inout WrongTypedStreams
    ) async -> Bool {
        fetchClients.withLock { $0[fetcher] = connection }
        // The queues this loop reads: its refusals are looked up among them (``waitOutWriteRefusals(of:)``).
        let ownQueues = queue.map { [$0] } ?? options.queues.names
        var shuffle = SplitMix64()
        var depth = FetchDepth(prefetch: options.prefetch, maxPrefetch: options.maxPrefetch)
        while fetches {
            do {
                if receipts.mayHaveLostReply { try await takeLostReplysJobs(queues: ownQueues, receipts: &receipts) }
                await buffer.waitForRoom(below: depth.refillBelow)
                if !fetches { break }
                // One atomic load while nothing is refused; the lock only while some queue (maybe another loop's) is.
                if writeRefusals.current(among: ownQueues) != nil {
                    await waitOutWriteRefusals(of: ownQueues)
                    continue
                }
                // Paused queues are left out; while all of this loop's queues are paused it waits here, not in Redis.
                // One queue has one order: no shuffle. Several are shuffled from this loop's own generator, not the
                // system's (a getrandom call a queue a fetch).
                let order = queue.map { [$0] } ?? (options.queues.names.count == 1 ? options.queues.names : options.queues.weightedOrder(using: &shuffle))
                var active = await buffer.activeQueues(among: order)
                if !fetches || active.isEmpty { break }
                if !wrongTyped.isEmpty {
                    if wrongTyped.due() { await lookAgain(at: &wrongTyped) }
                    active = wrongTyped.serving(active)
                    if active.isEmpty {
                        // Every queue of this loop is left out: wait for the next look rather than ask Redis.
                        try? await Task.sleep(for: WrongTypedStreams.recheck)
                        continue
                    }
                }
                // COUNT applies to each stream of a read: a cluster's per-queue read asks its queue for what the one
                // read of all queues asks of each. Split by the number of fetchers it fetched ~6 jobs a read, 17× the
                // reads a job of one Redis, each a round trip (session 6: +4 µs of Redis CPU a job, mostly system time).
                let want = depth.wanted(holding: buffer.count)
                // A missing group (the stream was deleted) is created again by the store before it throws.
                let fetched = try await jobs.store.fetch(
                    on: connection, consumer: options.consumer, count: want, block: options.fetchBlock, queues: active)
                if failures.count > 0 { fetchWorks(&failures) }
                depth.record(fetched, wanted: want, bufferWasEmpty: buffer.count == 0)
                buffer.setFetchDepth(depth.current)
                placement.record(backlog: depth.backlog)
                if fetched.isEmpty { continue }
                receipts.received(fetched)
                leases.hold(fetched)
                let refused = buffer.put(fetched)
                if !refused.isEmpty { await handBack(refused) }
            } catch {
                if !fetches { break }  // woken by CLIENT UNBLOCK at shutdown
                // One queue's key of another type refuses the whole read: that queue is left out, the others fetched.
                if JobStore.isWrongType(error), await leaveOutWrongTyped(among: queue.map { [$0] } ?? options.queues.names, &wrongTyped) { continue }
                receipts.failed(error)
                await fetchFailed(&failures, error)
                if queue != nil { return true }
            }
        }
        return false
    }

    /// Takes the jobs a fetch whose reply was lost delivered to this worker (``FetchReceipts``), as that fetch would
    /// have: held, and buffered or handed back.
    ///
    /// A queue whose look Redis refuses (its group gone with a restart that kept no data: `NOGROUP`; a key of another
    /// type; an ACL) has nothing to take: skipped, so the fetch runs and mends what it can (it creates a missing group
    /// again). Retried instead, the look failed before every fetch and the worker fetched nothing for good (a review
    /// of decision 0099 found it).
    private func takeLostReplysJobs(queues: [String], receipts: inout FetchReceipts) async throws {
        for queue in queues {
            let jobs: [FetchedJob]
            do {
                jobs = try await self.jobs.store.adoptUnreceived(queue: queue, consumer: options.consumer, lastReceived: receipts.lastReceived(queue))
            } catch let error as RedisError where error.code == .server || error.code == .permissionDenied {
                logger.warning("could not look for jobs a lost fetch reply delivered; the fetch goes on", metadata: ["queue": "\(queue)", "error": "\(error)"])
                continue
            }
            if jobs.isEmpty { continue }
            logger.warning("took \(jobs.count) jobs a fetch whose reply was lost had delivered to this worker", metadata: ["queue": "\(queue)"])
            receipts.received(jobs)
            leases.hold(jobs)
            let refused = buffer.put(jobs)
            if !refused.isEmpty { await handBack(refused) }
        }
        receipts.lookedForLostReply()
    }

    /// After a `WRONGTYPE` from the fetch: leaves out of `wrongTyped` those of `queues` whose stream key holds another
    /// type (one `TYPE` a queue, on this error's path only), said by name. False when none does (mended meanwhile, or
    /// the look failed): the failure is then an ordinary one.
    private func leaveOutWrongTyped(among queues: [String], _ wrongTyped: inout WrongTypedStreams) async -> Bool {
        let found = (try? await jobs.store.wrongTypedStreams(queues: wrongTyped.serving(queues))) ?? []
        if found.isEmpty { return false }
        for stream in found { sayWrongTyped(stream) }
        wrongTyped.leaveOut(found)
        return true
    }

    /// Looks again at the keys of the queues `wrongTyped` leaves out: a key that is a stream again, or gone, brings its
    /// queue back (said once); one still of another type is said again once a minute.
    private func lookAgain(at wrongTyped: inout WrongTypedStreams) async {
        let looked = Array(wrongTyped.left.keys).sorted()
        guard let still = try? await jobs.store.wrongTypedStreams(queues: looked) else {
            // Redis did not answer the look: the queues stay out, looked at again at the next due round.
            _ = wrongTyped.looked(at: [], still: [])
            return
        }
        let (back, sayAgain) = wrongTyped.looked(at: looked, still: still)
        for queue in back {
            logger.notice("queue \(queue)'s stream key is a stream again or gone: the queue is fetched again", metadata: ["queue": "\(queue)"])
        }
        for stream in sayAgain { sayWrongTyped(stream, still: true) }
    }

    /// The log line for a queue left out because its stream key holds another type.
    private func sayWrongTyped(_ stream: JobStore.WrongTypedStream, still: Bool = false) {
        logger.error(
            "queue \(stream.queue)\(still ? " is still" : " is") left out of fetching: its stream key \(stream.key) holds a \(stream.type), not a stream (WRONGTYPE); the other queues are served. Delete or rename the key (its jobs, if any, are not in it); the queue is fetched again once it is a stream or gone (looked at every \(WrongTypedStreams.recheck))",
            metadata: ["queue": "\(stream.queue)"])
    }

    /// Waits while Redis refuses the settles of a queue among `queues` (the fetch loop's) for want of writes
    /// (``WriteRefusals``: the settles are tried again meanwhile, their leases held), or until fetching stops; said when
    /// it starts, naming the refused queues, and when it ends.
    ///
    /// The whole loop waits, whichever of its queues is refused. On a cluster a loop reads one queue, on its node: the
    /// others' loops fetch on (decision 0111). On one Redis the loop reads every queue in one `XREADGROUP`, and the
    /// refusal is the server's (`maxmemory`, missing replicas, a failed save, a replica): the other queues' settles
    /// would meet it too, so a read narrowed to them would only take jobs that cannot settle, the duplicates this pause
    /// is for (decision 0098).
    private func waitOutWriteRefusals(of queues: [String]) async {
        guard let refusal = writeRefusals.current(among: queues) else { return }
        let word = refusal.error.message.prefix { $0 != " " }
        let refused = refusal.queues.joined(separator: ", ")
        let metadata: Logger.Metadata = ["queue": "\(refused)", "error": "\(refusal.error.operatorLine)"]
        let paused: String
        if queues.count == 1 {
            paused = "fetching queue \(refused) paused"
        } else {
            // One server: every queue of the loop waits (doc comment above).
            paused = "fetching every queue paused (one Redis: the others' settles would be refused too)"
        }
        logger.warning(
            "Redis refuses writes (\(word)) to the settles of queue \(refused): \(paused) while the settles of the jobs held here are tried again (it resumes when one lands, or \(WriteRefusals.hold) after the last refusal)",
            metadata: metadata)
        while fetches, writeRefusals.current(among: queues) != nil {
            try? await Task.sleep(for: .milliseconds(250))
        }
        if fetches {
            logger.notice(
                "fetching resumes: Redis takes writes again, or its settles stopped being refused",
                metadata: ["queue": "\(queues.count == 1 ? refused : queues.joined(separator: ", "))"])
        }
    }

    /// Logs a failed fetch (the first at once, then as ``RepeatedFailure`` says) and waits before the next: 100 ms
    /// after the first failure, doubling up to 2 s.
    private func fetchFailed(_ failures: inout RepeatedFailure, _ error: any Error) async {
        if let problem = failures.failed(error) {
            logger.warning(
                "fetch failed (attempt \(failures.count)); retrying (said again when the error changes, or in a minute)",
                metadata: ["error": "\(problem)"])
        }
        try? await Task.sleep(for: .milliseconds(min(2000, 50 * (1 << min(failures.count, 6)))))
    }

    /// A fetch that worked after failures: said once, the failures' lines having said nothing of the end.
    private func fetchWorks(_ failures: inout RepeatedFailure) {
        if let count = failures.succeeded() { logger.notice("fetch works again after \(count) failed attempts") }
    }

    /// Starts a task for runner `slot` that runs `operation` (the slot's loop). It starts on the global pool; the loop
    /// moves it where ``placement`` says. (A closure, not `Task(operation: operation)`: this module's async closures
    /// run on their caller's executor, decision 0093, and `Task` takes one that names its own isolation.)
    func startRunner(slot: Int, _ operation: @escaping @Sendable () async -> Void) {
        Task { await operation() }
    }

    /// Runs jobs on runner `slot` until the buffer closes, where ``placement`` says, moving when it changes. Stops
    /// without ending the runner when its attempt was taken over: the task that took it over runs the slot on
    /// (``execute(_:slot:lastEntry:)``).
    func runnerLoop(slot: Int) async {
        var lastEntry: JobRegistry.Entry?
        var carried: FetchedJob?
        while true {
            let stop: RunnerStop
            if let executor = placement.executor(slot: slot) {
                stop = await withTaskExecutorPreference(executor) {
                    await runJobs(slot: slot, carrying: carried, lastEntry: &lastEntry) {
                        placement.executor(slot: slot) === executor
                    }
                }
            } else {
                stop = await runJobs(slot: slot, carrying: carried, lastEntry: &lastEntry) {
                    placement.executor(slot: slot) == nil
                }
            }
            switch stop {
            case .moved(let job): carried = job
            case .takenOver: return
            case .bufferClosed:
                lifecycle.runnerEnded()
                return
            }
        }
    }

    /// Why ``runJobs(slot:carrying:lastEntry:while:)`` returned.
    private enum RunnerStop {
        /// The placement changed: the runner moves, and runs the job it took there.
        case moved(FetchedJob)
        /// A timed-out attempt was taken over by a new task, which runs the slot on.
        case takenOver
        /// The buffer closed: the worker is stopping.
        case bufferClosed
    }

    /// Runs `carried` (a job taken where the runner was before), then jobs from the buffer, while `stays` (the
    /// placement is where this runner runs now). The placement is looked at after each take: a runner that waited in
    /// ``JobBuffer/take()`` while it changed runs that job in the new place, not the old.
    private func runJobs(
        slot: Int, carrying carried: FetchedJob?, lastEntry: inout JobRegistry.Entry?, while stays: () -> Bool
    ) async -> RunnerStop {
        var carried = carried
        while true {
            let job: FetchedJob
            if let taken = carried {
                job = taken
                carried = nil
            } else {
                guard let taken = await buffer.take() else { return .bufferClosed }
                job = taken
            }
            guard stays() else { return .moved(job) }
            guard await execute(job, slot: slot, lastEntry: &lastEntry) else { return .takenOver }
        }
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

    /// Recovery, promotion, the pause watch, the answers to cancels and the retention trims, each on its own interval, until shutdown begins
    /// (lease renewal runs until the worker stopped and its last acknowledgements landed: ``LeaseRenewal``).
    private func backgroundSteps() async {
        let steps: [any BackgroundStep] = [
            JobRecovery(store: jobs.store, options: options, buffer: buffer, leases: leases, lifecycle: lifecycle, handBack: handBack, logger: logger),
            promotion,
            pauseWatch,
            CancelWatch(
                store: jobs.store, queues: options.queues.names, buffer: buffer, leases: leases, lifecycle: lifecycle, handBack: handBack,
                interval: options.pauseCheckInterval, consumer: options.consumer, redaction: redaction, keepsHistory: historyLimits != nil,
                logger: logger),
            RetentionUpkeep(store: jobs.store, options: options, historyLimits: historyLimits, logger: logger),
        ]
        await withTaskGroup(of: Void.self) { group in
            for step in steps {
                group.addTask { await self.repeatRounds(of: step) }
            }
            await lifecycle.wait(until: .draining)
            group.cancelAll()
        }
    }

    /// Runs `step` every interval (± its jitter) until cancelled; a round under way is finished first. A failing step
    /// is logged by name, as ``RepeatedFailure`` says: during a Redis outage each round of each step (recovery every
    /// 2 s, promotion, the pause and cancel watches every 500 ms) logged "background step failed", naming none.
    private func repeatRounds(of step: any BackgroundStep) async {
        let name = step.name
        var failures = RepeatedFailure()
        while !Task.isCancelled {
            do {
                try await step.round()
                if let count = failures.succeeded() { logger.notice("background step \(name) works again after \(count) failed rounds") }
            } catch {
                if let problem = failures.failed(error) {
                    logger.warning(
                        "background step \(name) failed (\(failures.count) in a row); will retry (said again when the error changes, or in a minute)",
                        metadata: ["error": "\(problem)"])
                }
            }
            let factor = 1 + step.jitter * Double.random(in: -1...1)
            try? await Task.sleep(for: step.interval * factor)
        }
    }

    private var pauseWatch: PauseWatch {
        PauseWatch(
            store: jobs.store, queues: Set(options.queues.names), buffer: buffer, handBack: handBack, interval: options.pauseCheckInterval,
            wakeFetchers: { [self] in await wakeFetchers(fetchClients.withLock { Array($0.values) }) }, logger: logger)
    }

    private var promotion: JobPromotion {
        JobPromotion(store: jobs.store, queues: options.queues.names, interval: options.promoteInterval, clockLead: clockLead)
    }

    /// Moves due delayed jobs and retries of every queue to their stream (one round; ``run()`` does it every
    /// `promoteInterval`). Safe to run from many workers at once: each job is promoted once.
    public func promote() async throws {
        try await promotion.round()
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
}

/// A failure that repeats (a fetch, a background step's round), as the log tells it: the first at once, then again only
/// when its problem changes or ``repeatAfter`` has passed, and its end once. During a Redis outage every fetch and every
/// round of each step said so: ~3,000 lines an hour a worker that said nothing new. As the heartbeat's "heartbeat not
/// written", the line comes back when the problem changes; and each minute too, as "waiting for Redis before starting"
/// does, so a log read from its end still shows what is failing.
struct RepeatedFailure {
    /// How long a problem unchanged goes unsaid (the lines say "in a minute").
    static let repeatAfter = Duration.seconds(60)
    /// Failures in a row.
    private(set) var count = 0
    /// The last failure's problem, as an operator reads it.
    private var problem: String?
    private var saidAt: ContinuousClock.Instant?

    /// Counts a failure; returns its problem when it is to be logged (the first, a new one, or a minute after the last
    /// line), nil when the last line said it.
    mutating func failed(_ error: any Error, now: ContinuousClock.Instant = .now) -> String? {
        count += 1
        let problem = (error as? RedisError)?.operatorLine ?? "\(error)"
        defer { self.problem = problem }
        if problem == self.problem, let saidAt, now - saidAt < Self.repeatAfter { return nil }
        saidAt = now
        return problem
    }

    /// Ends the failures: their count, to say so once; nil when there were none.
    mutating func succeeded() -> Int? {
        guard count > 0 else { return nil }
        defer { self = RepeatedFailure() }
        return count
    }
}

import ArgumentParser
import Foundation
import HoopoeCore
import HoopoeJobs
import Logging
import Providers
import Redis
import ServiceLifecycle
import UnixSignals

/// `hoopoe worker`: runs jobs until told to stop.
struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Fetch and run jobs from the given queues.",
        discussion: """
            Signals: SIGTERM or SIGINT stop fetching, let running jobs finish within --shutdown-timeout, hand the \
            rest back to their queues at once, and exit 0; a second SIGTERM/SIGINT stops at once (running jobs are \
            handed back). SIGTSTP makes the worker quiet: it fetches nothing new, takes over no lost worker's jobs, but finishes what it has \
            (then stop it with SIGTERM). Its heartbeat says so at once (state quiet): `hoopoe queues`, the dashboard and \
            health-check show it quiet, and a quiet worker serves no queue, so `hoopoe enqueue` and health-check warn \
            about a queue only quiet workers list. That is this process only; `hoopoe queue pause NAME` pauses a queue for \
            every worker (within a second none fetches from it; `hoopoe queue resume NAME` undoes it).

            Started while Redis is unreachable, or refusing writes (a failed save, min-replicas-to-write unmet, \
            maxmemory, or READONLY: a replica, as during a failover), the worker waits for it (logging "waiting for Redis before starting", trying at most every \
            5 s) and starts once it answers; a login or database Redis refuses, a server \
            certificate that cannot be trusted, or a Sentinel master= name most sentinels answer they do not know \
            (for 30 s: sentinels configured at run time do not know it at first), exits 2.

            The domain jobs (jobs/README.md) read their settings from the environment: provider keys \
            (KAVENEGAR_API_KEY, IPPANEL_API_KEY, BREVO_API_KEY), RECEIPT_BASE_URL, quiet hours, caps; \
            deploy/hoopoe.env.example lists every variable with its default. A value that cannot be used stops \
            start-up with exit code 78 and a message naming the variable.

            HOOPOE_EVENTS_MAXLEN (default 100000, 100 to 100000000) caps the events stream (jobs/EVENTS.md): \
            every event this worker writes, the engine's job.dead and the domain jobs' alike, trims it to about \
            that many entries.

            HOOPOE_HISTORY_MAX_JOBS (default 10000, 0 to 1000000; 0 keeps none) and HOOPOE_HISTORY_MAX_AGE (seconds, \
            default 86400, 60 to 31536000) cap each queue's job history: the finished jobs `hoopoe job show` and the \
            dashboard find (docs/operating.md, "Job history"). About once a minute the worker trims each of its \
            queues' history and dead set (10,000 jobs, 180 days) to their caps, whether or not a job ran or died; \
            one worker a minute also trims by age the queues no live worker has served for an hour (a queue retired \
            or renamed), with its age caps.

            A job stays in Redis until its handler finished. If this process dies (kill -9, a lost host), another \
            running worker takes its jobs after --lease plus at most one recovery round (2 s ± 20 %): within 15 s \
            with the default 10 s lease. The lost run counts as an attempt. A live worker renews its leases every \
            fifth of --lease on a thread and a Redis connection of its own, so busy CPUs, handlers that block their \
            thread and jobs that run longer than the lease do not lose their jobs to another worker. Give every \
            worker of a queue the same --lease (docs/operating.md, "When a worker dies").

            While the worker works through a backlog, handlers run on the threads of its two shared Redis \
            connections, half on each; otherwise on Swift's cooperative pool. A handler that blocks its thread (a \
            synchronous call, a long computation) holds up that connection's Redis calls and the other handlers on \
            it (docs/operating.md, "Handlers must not block their thread").
            """
    )

    @OptionGroup var options: GlobalOptions

    /// The default serves every queue the protocol names (jobs/PROTOCOL.md, "Which queue"): `freecredit.request`
    /// goes on `critical`, so a worker started without `--queues` must serve it too.
    @Option(help: "Queues with weights (a missing weight is 1).")
    var queues: String = "critical:6,default:3,low:1"

    @Flag(help: "Strict priority: always take from the first queue that has work, in the order given.")
    var strict = false

    @Option(help: "Jobs running at once, 1 to 1000. The worker also holds up to twice as many fetched and not started, up to four times while short jobs outrun its fetches, and keeps as many HTTP connections (at least 8) to each provider (docs/operating.md).")
    var concurrency: Int = 20

    // Decimal seconds (DurationText.seconds): `Double(_:)` took 0x10 for 16. A transform shows no default of its own.
    @Option(
        help: "Seconds running jobs may finish after SIGTERM before they are handed back (a run so cut off counts as an attempt; default 25).",
        transform: DurationText.seconds)
    var shutdownTimeout: Double = 25

    @Option(
        help: "Seconds a fetched job stays this worker's without a renewal (renewed every fifth of it): after a crash, its jobs run again elsewhere within --lease + 2.4 s (default 10: within 15 s).",
        transform: DurationText.seconds)
    var lease: Double = 10

    @Option(help: "Serve Prometheus metrics on this port at /metrics, on every address and without authentication: queue and job type names, counts (off when not given; queue gauges are read from Redis for the scrapes, one read a second at most, waited for 2 s at most; a port already taken stops the worker with status 1).")
    var metricsPort: Int?

    /// The most jobs a worker runs at once; for more, run more workers.
    static let maxConcurrency = 1000

    /// The longest `--lease` or `--shutdown-timeout`: a day, the longest job timeout an envelope may ask for.
    static let maxSeconds: Double = 86_400

    func validate() throws {
        // At most 1000: the worker holds up to four times as many fetched jobs, and a hand-back or a settle passes a
        // queue's held ids to one Lua call, whose `unpack` stops at about 8000 values.
        guard (1...Self.maxConcurrency).contains(concurrency) else {
            throw ValidationError("--concurrency must be 1 to \(Self.maxConcurrency) (got \(concurrency))")
        }
        // Upper bounds too: a number of seconds becomes a `Duration` through `Int`, and 1e300 (or inf) would trap.
        guard (0...Self.maxSeconds).contains(shutdownTimeout) else {
            throw ValidationError("--shutdown-timeout must be 0 to \(Int(Self.maxSeconds)) seconds (got \(shutdownTimeout))")
        }
        guard (1...Self.maxSeconds).contains(lease) else { throw ValidationError("--lease must be 1 to \(Int(Self.maxSeconds)) seconds (got \(lease))") }
        if let metricsPort, !(1...65535).contains(metricsPort) { throw ValidationError("--metrics-port must be a port number (1-65535)") }
        // A usage error (64, with the usage text), as every other flag's; it exited 1 before.
        do { _ = try QueueSelection(parsing: queues) } catch { throw ValidationError("\(error)") }
    }

    func run() async throws {
        try LogSetup.bootstrap()
        let logger = LogSetup.logger("hoopoe.worker")
        let metrics = JobMetrics(registry: PrometheusEndpoint.registry)
        let settings: DomainSettings
        let history: HistorySettings
        do {
            settings = try DomainSettings(environment: EnvironmentReader())
            history = try HistorySettings(environment: EnvironmentReader())
        } catch {
            logger.critical("bad configuration: \(error)")
            throw ExitCode(78)  // EX_CONFIG, as `hoopoe scheduler` for a bad schedule
        }
        for warning in DomainJobs.startupWarnings(settings) { logger.warning("\(warning)") }
        let redis = try options.makeRedisClient(poolSize: Worker.sharedConnections)
        defer { redis.close() }
        let jobs = JobQueue(redis: redis, namespace: options.namespace, keepsHistory: history.maxJobs > 0)
        // Made at the first provider request, not here: a worker that never calls a provider never starts NIO's
        // threads (decision 0035). A connection per running job to each provider host: with fewer, jobs queued for one
        // and failed at the connect limit, the provider up and the request never sent.
        let httpClient = ProviderHTTPClient(concurrentRequests: concurrency)
        let domain = DomainJobs.services(settings: settings, jobs: jobs, httpClient: httpClient, logger: LogSetup.logger("hoopoe.providers"))
        var configured = WorkerOptions(
            queues: try QueueSelection(parsing: queues, strict: strict), concurrency: concurrency,
            lease: .milliseconds(Int(lease * 1000)), shutdownTimeout: .milliseconds(Int(shutdownTimeout * 1000)))
        // One cap for the events stream, whoever writes to it (the engine's job.dead, the domain jobs' events).
        configured.eventsMaxLength = settings.eventsMaxLength
        let workerOptions = history.applied(to: configured)
        let worker = Worker(
            jobs: jobs, registry: JobCatalog.registry(domain: domain), options: workerOptions, logger: logger,
            metrics: metricsPort == nil ? WorkerMetrics() : metrics.workerMetrics)
        // Busy, queues, concurrency and the jobs running with each run's start (the dashboard's Busy page).
        let heartbeat = Heartbeat(kind: "worker", id: workerOptions.consumer, jobs: jobs, logger: logger, ownConnection: true) { worker.heartbeatFields }
        // Listed first, so it stops last: a second signal must still reach the worker while it drains.
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(
                service: WorkerSignalService(worker: worker, heartbeat: heartbeat, logger: logger), successTerminationBehavior: .gracefullyShutdownGroup)
        ]
        // Signalled once the metrics port is bound: the worker starts only then (``WorkerService``).
        let (metricsBound, boundSignal) = AsyncStream<Void>.makeStream()
        if let metricsPort {
            // Listed before the worker, so it stops after it: the endpoint stays up while the worker drains.
            let gauges = QueueGauges(registry: PrometheusEndpoint.registry, jobs: jobs, queues: workerOptions.queues.names) { worker.busy }
            // Its failure (the port taken) shuts the group down gracefully: the worker drains and the error is printed
            // as the worker's exit. Cancelling the group (the default) would drain the worker too (`Worker.run()`), but
            // it also ends WorkerSignalService at once, so a second SIGTERM during that drain would not stop it now.
            services.append(.init(
                service: PrometheusEndpoint.service(
                    port: metricsPort, logger: logger,
                    onBound: { port in
                        // Said once it is true: it was logged before the bind, then the bind failed.
                        logger.info("metrics on :\(port)/metrics")
                        boundSignal.yield()
                        boundSignal.finish()
                    }) { await gauges.refresh() },
                failureTerminationBehavior: .gracefullyShutdownGroup))
        }
        services.append(.init(service: HoopoeFunctions.service(redis: redis, logger: logger)))  // services FCALL hoopoe_enqueue
        services.append(.init(
            service: WorkerService(worker: worker, heartbeat: heartbeat, logger: logger, startsAfter: metricsPort == nil ? nil : metricsBound),
            successTerminationBehavior: .gracefullyShutdownGroup))
        // The group owns the first SIGTERM/SIGINT (graceful shutdown); WorkerSignalService the second and SIGTSTP.
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        do {
            try await group.run()
        } catch let error as PrometheusEndpoint.PortUnavailable {
            // Nothing ran: the worker waits for the port (``WorkerService``). Status 1, as the dashboard's taken port.
            try? await httpClient.shutdown()
            logger.critical("\(error)")
            throw ExitCode(1)
        } catch {
            try? await httpClient.shutdown()
            logger.critical("worker failed: \(error)")
            throw ExitCode(error is RedisError ? 2 : 1)
        }
        try? await httpClient.shutdown()
    }
}

/// The worker as a swift-service-lifecycle service: graceful shutdown of the group shuts the worker down, and so does
/// the group's cancellation (a member's failure), inside `Worker.run()`.
///
/// Named by its ``description``: a `ServiceGroup` logs `"\(service)"` at debug when it starts and stops each service,
/// and without one that was every field, down to the heartbeat's and the loggers' (as the function keeper's was its
/// whole Lua library: lines of 26 KB).
struct WorkerService: Service, CustomStringConvertible {
    let worker: Worker
    let heartbeat: Heartbeat
    let logger: Logger
    /// Yields once the metrics port is bound (`--metrics-port`); nil without one. The worker starts after it: started
    /// beside it, a worker whose port was taken had begun serving and taking jobs, only to drain and stop at once.
    var startsAfter: AsyncStream<Void>?

    var description: String { "WorkerService" }

    func run() async throws {
        if let startsAfter {
            // Ended by the group's shutdown when the port could not be bound (the endpoint failed): then nothing starts.
            let bound = await cancelWhenGracefulShutdown {
                for await _ in startsAfter { return true }
                return false
            }
            guard bound else { return }
        }
        guard try await firstBeat() else { return }  // stopped while waiting for Redis
        let beating = Task { await heartbeat.run() }
        defer { beating.cancel() }
        try await withGracefulShutdownHandler {
            try await worker.run()
        } onGracefulShutdown: {
            worker.shutdown()
            // Its state (draining) told at once: it serves no queue from now.
            heartbeat.beatSoon()
        }
        beating.cancel()
        // A beat in flight lands before the record goes (within a second): on its own connection, it could land after
        // the removal and bring the stopped worker back for a TTL (15 s), in health-check and the process list.
        let (ended, signal) = AsyncStream<Void>.makeStream()
        Task {
            await beating.value
            signal.yield()
        }
        Task {
            try? await Task.sleep(for: .seconds(1))
            signal.yield()
        }
        for await _ in ended { break }
        await heartbeat.remove(within: .seconds(1))
    }

    /// The first heartbeat, once Redis answers: a worker started while Redis is unreachable (started before it, or
    /// during an outage), or still loading its data after a restart (`LOADING`, ``RedisError/isMomentaryRefusal``:
    /// it exited 2 on that too), or refusing writes (``RedisError/refusesWrites``: a failed save, a replica gone,
    /// `maxmemory`), waits for it, saying so, as a running worker rides out an outage. It exited 2 before, and a
    /// supervisor's backoff (Kubernetes' CrashLoopBackOff: up to 5 minutes) kept it down long after Redis was back. A
    /// login or database Redis refuses, or a certificate it cannot trust, still ends the start (exit 2): waiting cannot
    /// mend it; so does a `master=` name most sentinels have not known for 30 s. False when shutdown was asked for
    /// meanwhile.
    private func firstBeat() async throws -> Bool {
        var delay = Duration.milliseconds(500)
        var waiting: String?
        // Said again each minute, not only when the reason changes: a worker pointed at the wrong address waits for good,
        // and one line at start is easily missed in a log that says nothing after it.
        var lastSaid = ContinuousClock.now
        while true {
            do {
                try await heartbeat.beat()
                if waiting != nil { logger.notice("Redis answers; starting") }
                return true
            } catch let error as RedisError
                where ([.connectionFailed, .connectionLost, .timeout].contains(error.code) || error.isMomentaryRefusal || error.refusesWrites) && !error.isFinal
            {
                let problem = error.refusesWrites ? "Redis refuses writes: \(error)" : error.operatorLine
                if problem != waiting || ContinuousClock.now - lastSaid >= .seconds(60) {
                    logger.warning("waiting for Redis before starting (trying again every \(Duration.seconds(5)) at most): \(problem)")
                    lastSaid = ContinuousClock.now
                }
                waiting = problem
                let pause = delay
                do {
                    try await cancelWhenGracefulShutdown { try await Task.sleep(for: pause) }
                } catch {
                    return false
                }
                if Task.isShuttingDownGracefully { return false }
                delay = min(delay * 2, .seconds(5))
            }
        }
    }
}

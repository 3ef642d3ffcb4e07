import ArgumentParser
import Foundation
import HoopoeCore
import HoopoeScheduler
import Logging
import Redis
import ServiceLifecycle
import UnixSignals

/// `hoopoe scheduler`: enqueues the periodic tasks of the schedule file.
struct SchedulerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scheduler",
        abstract: "Enqueue the periodic tasks of jobs/schedule.yaml, each tick exactly once.",
        discussion: """
            Run as many schedulers as you like (one per host, or two replicas): each tick of each task becomes \
            exactly one job, through a per-task-and-tick key in Redis; no leader is elected. The job's payload is the \
            task's payload plus "tick" (Unix seconds). After downtime a task runs once for the missed ticks \
            (catch_up: once) or not at all (catch_up: skip: only a tick that fell due within the 60 s grace period \
            runs, the latest one). A task with no stored history (the first start, or a \
            task new to the file) starts from now: no earlier tick is enqueued; so does a task whose cron or \
            time_zone changed (nothing of its new schedule was missed). A task moved to another queue keeps its \
            history, and catches up across the move. A task removed from the file keeps \
            its history in Redis: put back later under the same name, it catches up as after downtime (to \
            pause a task, set enabled: false instead: its ticks then pass without jobs). Schedulers whose files differ in a \
            task's queue (a rolling restart that moves it) still make one job of each tick, in the queue of the first \
            to claim it; the others log a warning naming it. A renamed task is a new task.

            An invalid schedule (bad cron expression, unknown time zone, unknown key, a payload the task's job type \
            cannot read, a payload too large for a job: over the enqueue limit of 512 KiB with its tick and envelope) \
            stops start-up with a message naming the task and the key, and exit status 78; a type this \
            build's workers do not run is warned about (a worker of another build may run it). SIGTERM/SIGINT stop \
            it (exit 0).

            Started while Redis is unreachable, the scheduler waits for it (logging each failed read of its clock) \
            and plans once it answers; a login or database Redis refuses, or a server certificate that cannot be \
            trusted, exits 2 at its first call to Redis, as the worker does: waiting cannot mend it.
            """
    )

    @OptionGroup var options: GlobalOptions

    @Option(help: "The schedule file.")
    var schedule: String = ScheduleFile.defaultPath

    func run() async throws {
        try LogSetup.bootstrap()
        let logger = LogSetup.logger("hoopoe.scheduler")
        let file: ScheduleFile
        do {
            file = try ScheduleFile.load(contentsOf: URL(fileURLWithPath: schedule))
        } catch {
            // The error names the file, the line, the task and the key; exit 78 (EX_CONFIG) says "fix the config". Its
            // text is masked (ScheduleFileError's description): a phone in a cron or a key was printed whole.
            FileHandle.standardError.write(Data("hoopoe scheduler: \(error)\n".utf8))
            throw ExitCode(78)
        }
        let redis = try options.makeRedisClient()
        defer { redis.close() }
        let jobs = JobQueue(redis: redis, namespace: options.namespace)
        let typeCheck = ScheduleTypeCheck.check(file.tasks, registry: JobCatalog.inspectionRegistry(jobs: jobs), jobs: jobs)
        for warning in typeCheck.warnings { logger.warning("\(schedule): \(warning)") }
        guard typeCheck.errors.isEmpty else {
            FileHandle.standardError.write(Data(typeCheck.errors.map { "hoopoe scheduler: \(schedule): \($0)\n" }.joined().utf8))
            throw ExitCode(78)
        }
        // Redis's clock decides which ticks are due, not this host's (decision 0083).
        let clock = RedisSchedulerClock(redis: redis)
        let scheduler = JobScheduler(
            tasks: file.tasks, lastTicks: RedisLastTickStore(redis: redis, prefix: options.namespace), sink: JobQueueTickSink(jobs: jobs),
            clock: clock
        ) { event in
            switch event {
            case .enqueued(let task, let tick): logger.info("enqueued \(task) for \(tick)")
            case .alreadyEnqueued(let task, let tick): logger.debug("\(task) for \(tick) was already enqueued by another scheduler")
            case .claimedForAnotherQueue(let task, let tick, let queue, let ownQueue):
                logger.warning("\(task) for \(tick) went to queue \(queue): a scheduler whose schedule file names that queue (this one's names \(ownQueue)) claimed the tick first; give every scheduler the same file")
            case .missedTicks(let task, let latest, let policy): logger.warning("\(task) missed ticks up to \(latest); catch_up: \(policy)")
            case .failed(let task, let error): logger.error("\(task) failed; retrying: \(error)")
            case .clockUnavailable(let error): logger.error("\(error); retrying")
            case .lastTickAhead(let task, let stored):
                logger.warning("\(task)'s last tick \(stored) is ahead of Redis's clock (a scheduler with a clock ahead wrote it); starting the task afresh from now")
            }
        } onNotice: { notice in
            switch notice {
            case .startedFromNow(let task, let queue): logger.info("no history for \(task) in queue \(queue): started from now; earlier ticks not caught up")
            case .historyUnreadable(let task, let queue, let key, let content):
                logger.warning("\(task)'s last tick key \(key) holds \(content), not Unix seconds (written by hand?): started from now in queue \(queue) and overwritten; ticks since its last real value not caught up")
            case .scheduleChanged(let task): logger.info("schedule of \(task) changed: starting from now")
            case .historyMoved(let task, let from, let to): logger.info("\(task)'s history moved from queue \(from) to \(to); missed ticks caught up")
            }
        }
        let id = WorkerOptions.defaultConsumer()
        let heartbeat = Heartbeat(kind: "scheduler", id: id, jobs: jobs, logger: logger) {
            ["tasks": String(scheduler.tasks.count), "schedule": schedule]
        }
        logger.info("scheduler \(id): \(scheduler.tasks.count) enabled task(s) from \(schedule)")
        let service = SchedulerService(scheduler: scheduler, heartbeat: heartbeat) {
            // For the next runs listed below; the scheduler's first wake-up reads it again. Its first call to Redis: a
            // refusal waiting cannot mend ends the start (exit 2), as the worker's first beat does; it logged
            // "TIME: authenticationFailed" every few seconds for good. Anything else (Redis unreachable) is waited for.
            do {
                try await clock.synchronize()
            } catch let unread as RedisSchedulerClock.ClockUnread {
                if let refusal = unread.cause as? RedisError, refusal.waitingCannotMend { throw refusal }
            }
            for (task, next) in scheduler.nextRuns(now: clock.now()) { logger.info("\(task.name): next run \(next) (\(task.cron))") }
        }
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [.init(service: HoopoeFunctions.service(redis: redis, logger: logger)), .init(service: service)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        do {
            try await group.run()
        } catch {
            logger.critical("scheduler failed: \(error)")
            throw ExitCode(error is RedisError ? 2 : 1)  // 2: Redis refused the login or the database, as `worker`
        }
    }
}

extension RedisError {
    /// A refusal of the connection itself that trying again cannot mend: the login, the URL's database, or a final
    /// connect (a server certificate that is not trusted).
    fileprivate var waitingCannotMend: Bool { code == .authenticationFailed || code == .badDatabase || isFinal }
}

/// The scheduler as a service: runs until graceful shutdown, beating meanwhile.
///
/// Named by its ``description``: a `ServiceGroup` logs `"\(service)"` at debug when it starts and stops each service,
/// and without one that was every field, the schedule's tasks with their payloads, secrets and all.
struct SchedulerService: Service, CustomStringConvertible {
    let scheduler: JobScheduler
    let heartbeat: Heartbeat
    /// Reads Redis's clock and logs each task's next run; throws a refusal waiting cannot mend.
    let announce: @Sendable () async throws -> Void

    var description: String { "SchedulerService" }

    func run() async throws {
        // Graceful shutdown cancels the loops: a scheduler holds no work that needs draining. Its reach starts with the
        // first call to Redis: reading its clock and the first beat took seconds while Redis was unreachable, and when
        // they ran before the service group, a SIGTERM then killed the process (status 143), not the exit 0 promised.
        try await cancelWhenGracefulShutdown {
            try await announce()
            if Task.isCancelled { return }
            try? await heartbeat.beat()
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await heartbeat.run() }
                group.addTask { await scheduler.run() }
                await group.next()
                group.cancelAll()
            }
        }
        await heartbeat.remove(within: .seconds(1))
    }
}

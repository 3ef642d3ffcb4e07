import ArgumentParser
import Foundation
import HoopoeCore
import HoopoeScheduler
import HoopoeJSON
import Redis

/// `hoopoe health-check`: one run of ``HealthCheck``, printed, with an exit code a probe can use.
struct HealthCheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "health-check",
        abstract: "Check the deployment (Redis, workers, scheduler, queues) or, with --liveness, this process; exit 0 healthy, 1 unhealthy, 2 Redis unreachable (--liveness: 0, a warning).",
        discussion: """
            Two questions, two modes:
              hoopoe health-check              the deployment: what should alert a person
              hoopoe health-check --liveness   this process: what a liveness probe restarts on

            --liveness checks only (each ok or fail; redis warns while Redis is unreachable):
              redis                    PING
              process                  a Hoopoe process (worker or scheduler) on this host has a heartbeat
                                       younger than 15 s (or --worker ID's does)
            It reads the heartbeats (pruning expired ones from their index) and ignores queues: a stray job in a
            queue nobody serves, or a slow queue, is no reason to restart a healthy worker. Redis unreachable is a
            warning and exit 0: the process cannot be judged then, and a restart would not bring Redis back (the
            worker waits for Redis on its own); the deployment check says unreachable (exit 2).

            The deployment checks (each ok, warn or fail):
              redis                    PING on the pooled client, and a write taken: fails "Redis refuses
                                       writes: …" when Redis refuses them (OOM under noeviction, NOREPLICAS)
              redis_second_connection  PING on a connection of its own
              redis_version            Redis 6.2 or later (on a cluster: every primary that answers)
              maxmemory_policy         warns unless noeviction (eviction deletes jobs), naming each cluster
                                       primary that may evict
              topology                 INFO replication on the server, on the primary the sentinels name, or on
                                       every cluster primary: fails when a primary does not answer (naming its
                                       address), when cluster slots have no primary, or when REDIS_URL names a
                                       replica; warns when a replica is not in sync (not online, or lag > 10 s)
              workers                  a live worker heartbeat (or --worker ID's); names the quiet ones (SIGTSTP)
              scheduler                when the schedule has enabled tasks: a live scheduler, and every task
                                       handled on time (its next tick not due for longer than the 60 s grace
                                       period; each task known to schedulers up longer than that); fails when a
                                       file named by --schedule is missing
              queue:<name>             the oldest ready job is younger than --max-latency; warns "no worker serves
                                       `<name>`: N jobs waiting" when no live worker serves a queue with jobs
                                       (ready, scheduled or retrying, or in flight); a quiet worker serves
                                       none, and the warning names it
              dead_jobs                warns when jobs were put in the dead sets since the previous run
                                       (counted as they die, so a dead set at its cap still shows them)
              canary                   with --canary: a diag.record job runs end to end

            Exit codes: 0 healthy (warnings allowed), 1 unhealthy (a check failed), 2 Redis unreachable or not serving yet (LOADING after a restart; --liveness: 0, a warning).
            Fit for a Kubernetes exec probe: every Redis call gives up after --timeout, and the first unanswered \
            call ends the run, so it finishes within about 2 x --timeout (plus --canary-timeout with --canary).

            --json prints one document:
              {"status": "healthy|unhealthy|unreachable",
               "checks": [{"name": "redis", "status": "ok|warn|fail",
                           "message": "...", "round_trip_ms": 0.31}, ...]}
            A check's numbers (round_trip_ms, latency_seconds, live_workers, growth, ...) \
            sit beside its name. Beside "checks", "topology" describes what Redis was read:
              {"kind": "standalone|sentinel|cluster", "unserved_slots": 0, "master_name": "...",
               "primaries": [{"address": "10.0.0.11:7000", "reachable": true, "role": "master",
                              "slots": 5461, "problem": "...",
                              "replicas": [{"address", "state", "in_sync", "lag_seconds", "bytes_behind"}]}]}
            ("slots" on a cluster only, "master_name" with Sentinel only, "problem" when a primary could not be \
            read). The table output ends with the same as a table of primaries. Addresses only, never a password.

            Writes to Redis (its ACL needs these commands; docs/operating.md, "Redis ACL", has the line): \
            <namespace>:health:dead (DEL, HSET, EXPIRE: dead counts of this run, for the next run's growth); \
            <namespace>:health:write-probe:<host> (SET with PX 1000: the write probe, on every deployment check \
            and, with --liveness, when the process has no fresh heartbeat); <namespace>:queues:scanned (DEL, SADD, \
            EXPIRE: the queues a scan of the keys found, kept 30 s for the dashboard and the next check); \
            <namespace>:processes (ZREM: processes whose heartbeat expired); and, with --canary, a diag.record job \
            on its queue, <namespace>:health:canary:<member> and its :count and :attempt hashes (removed after), \
            and the job's cancel when it did not run in time.
            """
    )

    @OptionGroup var options: GlobalOptions

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    @Flag(help: "Check only this process (Redis answers, its heartbeat is fresh): for liveness probes.")
    var liveness = false

    @Option(help: "Fail a queue whose oldest ready job waited longer than this (500ms, 30s, 10m, 2h).")
    var maxLatency: String = "60s"

    @Option(help: ArgumentHelp("Require this worker (its id, as `hoopoe queues` shows) instead of any worker (with --liveness: instead of any process on this host).", valueName: "id"))
    var worker: String?

    @Flag(help: "Enqueue a diag.record job and wait for a worker to run it: proof from end to end.")
    var canary = false

    @Option(help: "How long the canary may take.")
    var canaryTimeout: String = "10s"

    @Option(
        help: ArgumentHelp(
            "The schedule file (default: \(ScheduleFile.defaultPath), relative to the working directory). When it has enabled tasks, a live scheduler is required and every task's tick must be on time; a file named here must exist.",
            valueName: "path"))
    var schedule: String?

    @Option(help: "Redis connect and reply timeout (a timeout= in the Redis URL does not apply here).")
    var timeout: String = "2s"

    func validate() throws {
        if liveness && canary { throw ValidationError("--canary checks the deployment; it cannot be combined with --liveness") }
        do {
            _ = try DurationText.parse(maxLatency, option: "--max-latency", positive: false)
            _ = try DurationText.parse(canaryTimeout, option: "--canary-timeout")
            _ = try DurationText.parse(timeout, option: "--timeout")
        } catch {
            throw ValidationError("\(error)")
        }
    }

    func run() async throws {
        let redis = try options.makeAdminClient(timeout: try DurationText.parse(timeout, option: "--timeout"), boundingEveryCall: true)
        defer { redis.close() }
        let checkOptions = HealthCheckOptions(
            maxLatency: try DurationText.parse(maxLatency, option: "--max-latency", positive: false), workerID: worker, canary: canary,
            canaryTimeout: try DurationText.parse(canaryTimeout, option: "--canary-timeout"),
            scheduleFile: .at(
                URL(fileURLWithPath: schedule ?? ScheduleFile.defaultPath), named: schedule != nil,
                lastTicks: RedisLastTickStore(redis: redis, prefix: options.namespace)),
            scope: liveness ? .liveness : .deployment)
        let jobs = JobQueue(redis: redis, namespace: options.namespace, keepsHistory: HistorySettings.keepsHistory)
        let report = await HealthCheck(jobs: jobs, options: checkOptions).run()
        if json {
            printJSON(report.json)
        } else {
            print(HealthReportText.table(report))
        }
        if report.verdict != .healthy { throw ExitCode(report.verdict.exitCode) }
    }
}

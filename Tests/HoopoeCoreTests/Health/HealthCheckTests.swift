import Foundation
@testable import HoopoeCore
import HoopoeScheduler
import HoopoeJSON
import Redis
import TestSupport
import Testing

/// The health check's logic against a real Redis, each test in its own namespace.
struct HealthCheckTests {
    private func beat(_ h: EngineHarness, kind: String = "worker", id: String = "w1", queues: String = "default") async throws {
        try await Heartbeat(kind: kind, id: id, jobs: h.jobs) { ["busy": "1", "concurrency": "4", "queues": queues] }.beat()
    }

    @Test func anUnservedQueueWithJobsWarnsInsteadOfFailing() async throws {
        let h = try EngineHarness()
        try await beat(h, queues: "default")
        try await h.jobs.enqueue(type: "diag.record", payload: h.diag(key: "\(h.namespace):k", member: "m"), options: EnqueueOptions(queue: "emails"))
        try await Task.sleep(for: .milliseconds(150))
        let report = await HealthCheck(jobs: h.jobs, options: HealthCheckOptions(maxLatency: .milliseconds(50))).run()
        let finding = try #require(report.finding("queue:emails"))
        #expect(finding.status == .warn)
        #expect(finding.message.hasPrefix("no worker serves `emails`: 1 job waiting"), "\(finding.message)")
        #expect(finding.numbers["served"] == 0)
        #expect(report.verdict == .healthy, "\(report.findings)")
    }

    /// A quiet worker (SIGTSTP: its heartbeat's `state` says so) serves none of its queues: a queue only it lists
    /// warns that no worker serves it, naming it and why, and the `workers` line counts it live and names it. The
    /// review saw `ok workers 2 live worker(s)` and a latency failure with no hint why while the quiet worker's queue
    /// waited. A worker of an older release (no `state`) serves as before.
    @Test func aQueueOnlyAQuietWorkerListsWarnsNamingIt() async throws {
        let h = try EngineHarness()
        try await Heartbeat(kind: "worker", id: "w-quiet", jobs: h.jobs) {
            ["busy": "0", "concurrency": "20", "queues": "critical,default,low", ProcessRecord.stateField: "quiet"]
        }.beat()
        try await beat(h, id: "w-other", queues: "mail")
        try await h.jobs.enqueue(type: "diag.record", payload: h.diag(key: "\(h.namespace):k", member: "m"), options: EnqueueOptions(queue: "low"))
        let report = await HealthCheck(jobs: h.jobs, options: HealthCheckOptions(maxLatency: .seconds(5))).run()
        let low = try #require(report.finding("queue:low"))
        #expect(low.status == .warn, "\(low.message)")
        #expect(
            low.message == "no worker serves `low`: 1 job waiting (1 ready); worker w-quiet (quiet) lists it but fetches nothing new; "
                + "start a worker with --queues low, or move the jobs", "\(low.message)")
        #expect(low.numbers["served"] == 0 && low.numbers["quiet_workers"] == 1)
        let workers = try #require(report.finding("workers"))
        #expect(workers.status == .ok && workers.numbers["live_workers"] == 2 && workers.numbers["quiet_workers"] == 1, "\(workers)")
        #expect(workers.message == "2 live worker(s), 1/24 busy; 1 fetching nothing new: w-quiet (quiet)", "\(workers.message)")
        let named = await HealthCheck(jobs: h.jobs, options: HealthCheckOptions(workerID: "w-quiet")).run().finding("workers")
        #expect(named?.status == .ok && named?.message.hasSuffix(", busy 0, quiet: fetching nothing new") == true, "\(String(describing: named))")

        // The same worker of an older release, with no state: it serves `low`. Both beat again: on a loaded machine the
        // first beats' 15 s could be gone by now.
        try await h.redis.send("HDEL", GlobalKeys(namespace: h.jobs.namespace).process("w-quiet"), ProcessRecord.stateField)
        try await Heartbeat(kind: "worker", id: "w-quiet", jobs: h.jobs) { ["busy": "0", "concurrency": "20", "queues": "critical,default,low"] }.beat()
        try await beat(h, id: "w-other", queues: "mail")
        let old = await HealthCheck(jobs: h.jobs, options: HealthCheckOptions(maxLatency: .seconds(5))).run()
        #expect(old.finding("queue:low")?.status == .ok, "\(String(describing: old.finding("queue:low")))")
        #expect(old.finding("workers")?.message == "2 live worker(s), 1/24 busy", "\(String(describing: old.finding("workers")))")
    }

    /// In a rolling restart the old workers are quiet while the new ones run: the canary goes to a queue a fetching
    /// worker serves (sorted by id, the quiet `a1`'s `critical` came first, and the canary waited out its timeout), and
    /// the `workers` line warns only when no live worker fetches.
    @Test func theCanaryGoesWhereAWorkerFetchesAndEveryWorkerQuietWarns() async throws {
        let h = try EngineHarness()
        let quiet = ProcessRecord(id: "a1", fields: ["kind": "worker", "queues": "critical,default", ProcessRecord.stateField: "quiet"], age: 1)
        let running = ProcessRecord(id: "b1", fields: ["kind": "worker", "queues": "low,default", ProcessRecord.stateField: "running"], age: 1)
        let check = HealthCheck(jobs: h.jobs, options: HealthCheckOptions())
        #expect(check.canaryQueue([quiet, running]) == "low")
        #expect(check.canaryQueue([quiet]) == "critical", "none fetches: the quiet ones' queues, as before")
        let both = check.workers([quiet, running])
        #expect(both.status == .ok, "\(both.message)")
        let alone = check.workers([quiet])
        #expect(alone.status == .warn && alone.message.contains("none fetches new jobs"), "\(alone.message)")
    }

    /// Only a worker of a queue promotes its due retries and recovers a lost worker's jobs: a queue no worker serves
    /// that holds only those never drains, and read `ok` (its ready count is 0, so is its latency).
    @Test func anUnservedQueueWithOnlyScheduledOrInFlightJobsWarns() async throws {
        let h = try EngineHarness()
        try await beat(h, queues: "default")
        let payload = h.diag(key: "\(h.namespace):k", member: "m")
        try await h.jobs.enqueue(type: "diag.record", payload: payload, options: EnqueueOptions(queue: "low", runAt: Date().addingTimeInterval(3600)))
        try await h.jobs.enqueue(type: "diag.record", payload: payload, options: EnqueueOptions(queue: "lost"))
        let k = h.jobs.keys("lost")
        _ = try? await h.redis.send("XGROUP", "CREATE", k.stream, QueueKeys.group, "0", "MKSTREAM")
        _ = try await h.redis.send("XREADGROUP", "GROUP", QueueKeys.group, "gone", "COUNT", "1", "STREAMS", k.stream, ">")
        let report = await HealthCheck(jobs: h.jobs, options: HealthCheckOptions(maxLatency: .seconds(60))).run()
        let low = try #require(report.finding("queue:low"))
        #expect(low.status == .warn && low.message.hasPrefix("no worker serves `low`: 1 job waiting (1 scheduled or retrying)"), "\(low.message)")
        let lost = try #require(report.finding("queue:lost"))
        #expect(lost.status == .warn && lost.message.hasPrefix("no worker serves `lost`: 1 job waiting (1 in flight)"), "\(lost.message)")
        #expect(report.verdict == .healthy, "\(report.findings)")
    }

    @Test func livenessLooksOnlyAtRedisAndThisHostsHeartbeat() async throws {
        let h = try EngineHarness()
        let host = "host-\(UUID().uuidString.prefix(8))"
        let options = HealthCheckOptions(maxLatency: .milliseconds(1), scope: .liveness, host: host)
        #expect(await HealthCheck(jobs: h.jobs, options: options).run().finding("process")?.status == .fail)
        try await Heartbeat(kind: "scheduler", id: "s1", jobs: h.jobs) { ["host": host] }.beat()
        try await h.jobs.enqueue(type: "diag.record", payload: h.diag(key: "\(h.namespace):k", member: "m"), options: EnqueueOptions(queue: "nobody"))
        let report = await HealthCheck(jobs: h.jobs, options: options).run()
        #expect(report.findings.map(\.name) == ["redis", "process"])
        #expect(report.verdict == .healthy, "\(report.findings)")
    }

    @Test func noLiveWorkerFails() async throws {
        let h = try EngineHarness()
        let report = await HealthCheck(jobs: h.jobs).run()
        #expect(report.finding("redis")?.status == .ok)
        #expect(report.finding("redis_second_connection")?.status == .ok)
        #expect(report.finding("redis_version")?.status == .ok)
        #expect(report.finding("workers")?.status == .fail)
        #expect(report.finding("workers")?.numbers["live_workers"] == 0)
        #expect(report.verdict == .unhealthy)
    }

    @Test func workerHeartbeatMakesItHealthy() async throws {
        let h = try EngineHarness()
        try await beat(h)
        let report = await HealthCheck(jobs: h.jobs).run()
        #expect(report.finding("workers")?.status == .ok, "\(report.findings)")
        #expect(report.finding("workers")?.numbers["live_workers"] == 1)
        #expect(report.finding("workers")?.numbers["busy"] == 1)
        #expect(report.verdict == .healthy, "\(report.findings)")
        #expect(report.finding("scheduler") == nil, "no schedule file given: the check does not apply")
    }

    @Test func namedWorkerMustBeTheOneAlive() async throws {
        let h = try EngineHarness()
        try await beat(h, id: "w1")
        let present = await HealthCheck(jobs: h.jobs, options: HealthCheckOptions(workerID: "w1")).run()
        #expect(present.finding("workers")?.status == .ok)
        let missing = await HealthCheck(jobs: h.jobs, options: HealthCheckOptions(workerID: "w2")).run()
        #expect(missing.finding("workers")?.status == .fail)
        #expect(missing.finding("workers")?.message.contains("w1") == true, "names the live ones")
    }

    @Test func latencyOverTheLimitFails() async throws {
        let h = try EngineHarness()
        try await beat(h, queues: "default,slow")
        try await h.jobs.enqueue(type: "diag.record", payload: h.diag(key: "\(h.namespace):k", member: "m"), options: EnqueueOptions(queue: "slow"))
        try await Task.sleep(for: .milliseconds(250))
        let tight = await HealthCheck(jobs: h.jobs, options: HealthCheckOptions(maxLatency: .milliseconds(100))).run()
        let finding = try #require(tight.finding("queue:slow"))
        #expect(finding.status == .fail)
        #expect((finding.numbers["latency_seconds"] ?? 0) >= 0.2)
        #expect(finding.numbers["ready"] == 1)
        #expect(tight.verdict == .unhealthy)
        // Beat again: on a loaded machine the first heartbeat may have expired by now, and a queue no live worker
        // serves is a warning, not the latency verdict this step checks.
        try await beat(h, queues: "default,slow")
        let loose = await HealthCheck(jobs: h.jobs, options: HealthCheckOptions(maxLatency: .seconds(60))).run()
        #expect(loose.finding("queue:slow")?.status == .ok)
        #expect(loose.verdict == .healthy, "\(loose.findings)")
    }

    @Test func evictionPolicyWarns() async throws {
        let server = try RedisServer(arguments: ["--maxmemory-policy", "allkeys-lru"])
        let redis = try RedisClient(url: server.url)
        defer { redis.close() }
        let jobs = JobQueue(redis: redis, namespace: "health")
        try await Heartbeat(kind: "worker", id: "w", jobs: jobs).beat()
        let report = await HealthCheck(jobs: jobs).run()
        #expect(report.finding("maxmemory_policy")?.status == .warn)
        #expect(report.finding("maxmemory_policy")?.message.contains("allkeys-lru") == true)
        #expect(report.verdict == .healthy, "a warning does not make it unhealthy")

        let h = try EngineHarness()
        #expect(await HealthCheck(jobs: h.jobs).run().finding("maxmemory_policy")?.status == .ok, "the test server runs noeviction")
    }

    /// A run whose queue reads failed (here an ACL without SCAN, the queue list not cached; a cluster primary that
    /// does not answer the scan) leaves the dead baseline alone: it said "0 dead job(s)", ok, saved that, and the next
    /// run reported every dead job as new.
    @Test func aRunWhoseQueueReadsFailedLeavesTheDeadBaselineAlone() async throws {
        let h = try EngineHarness()
        let (worker, task) = h.startWorker()
        for _ in 0..<2 { try await h.jobs.enqueue(type: "no.such.type", payload: .object([:])) }
        #expect(try await h.eventually { try await h.jobs.info(queue: "default").dead == 2 })
        worker.shutdown()
        try await task.value
        let check = HealthCheck(jobs: h.jobs)
        #expect(await check.run().finding("dead_jobs")?.numbers["dead"] == 2, "the baseline: 2")
        let user = "noscan-\(UInt32.random(in: 0...UInt32.max))"
        try await h.redis.send(RedisCommand("ACL", ["SETUSER", user, "on", ">pw", "~*", "+@all", "-scan"]))
        defer { Task { [redis = h.redis] in _ = try? await redis.send("ACL", "DELUSER", user) } }
        let narrow = try RedisClient(url: try TestRedis.url().replacingOccurrences(of: "redis://", with: "redis://\(user):pw@"))
        defer { narrow.close() }
        try await h.redis.send("DEL", GlobalKeys(namespace: h.jobs.namespace).scannedQueues)
        let failed = await HealthCheck(jobs: JobQueue(redis: narrow, namespace: h.jobs.namespace)).run()
        #expect(failed.finding("queues")?.status == .fail, "\(failed.findings)")
        #expect(failed.finding("dead_jobs") == nil, "not judged from queues that were not read: \(failed.findings)")
        let next = await check.run()
        #expect(next.finding("dead_jobs")?.numbers["growth"] == 0, "\(String(describing: next.finding("dead_jobs")))")
    }

    @Test func deadSetGrowthIsReportedSinceThePreviousRun() async throws {
        let h = try EngineHarness()
        let check = HealthCheck(jobs: h.jobs)
        let first = await check.run()
        #expect(first.finding("dead_jobs")?.status == .ok)
        #expect(first.finding("dead_jobs")?.numbers["dead"] == 0)

        let (worker, task) = h.startWorker()
        for _ in 0..<2 { try await h.jobs.enqueue(type: "no.such.type", payload: .object([:])) }
        #expect(try await h.eventually { try await h.jobs.info(queue: "default").dead == 2 })
        worker.shutdown()
        try await task.value

        let second = await check.run()
        let grown = try #require(second.finding("dead_jobs"))
        #expect(grown.status == .warn)
        #expect(grown.numbers["growth"] == 2)
        #expect(grown.numbers["dead"] == 2)
        #expect(second.verdict != .unreachable)

        let third = await check.run()
        #expect(third.finding("dead_jobs")?.status == .ok)
        #expect(third.finding("dead_jobs")?.numbers["growth"] == 0)
        #expect(try await h.redis.send("HGET", check.keys.dead, "queue:default").int == 2)
    }

    /// Whole numbers in the findings' messages were `Int(_:)` of doubles: a heartbeat's `busy` of Int.max (as a double,
    /// one past it) or a dead baseline dated `-inf` (infinitely long ago), both hand-written, trapped and took the check
    /// (here, the test runner) down. Such a number is written as it is.
    @Test func numbersNoIntHoldsAreWrittenNotTrapped() async throws {
        let h = try EngineHarness()
        let max = String(Int.max)
        try await Heartbeat(kind: "worker", id: "w1", jobs: h.jobs) { ["busy": max, "concurrency": max, "queues": "default"] }.beat()
        let check = HealthCheck(jobs: h.jobs)
        _ = await check.run()  // leaves the dead baseline
        try await h.redis.send("HSET", check.keys.dead, "at", "-inf")
        let report = await check.run()
        let workers = try #require(report.finding("workers"))
        #expect(workers.status == .ok && workers.message.contains("9.223372036854776e+18/9.223372036854776e+18 busy"), "\(workers.message)")
        let dead = try #require(report.finding("dead_jobs"))
        #expect(dead.message.contains("none new since the last check inf s ago"), "\(dead.message)")
        // A baseline count no difference fits in: the growth is shown at the end of the range, not trapped on.
        try await h.redis.send("SADD", h.jobs.global.queues, "default")  // the queue is known
        let min = String(Int.min)
        try await h.redis.send("HSET", check.keys.dead, "at", "1", "queue:default", min, "deaths:default", "\(min),\(min),\(min)")
        let grown = try #require(await check.run().finding("dead_jobs"))
        #expect(grown.message.contains("default +\(Int.max)"), "\(grown.message)")
    }

    @Test func canaryRunsThroughAWorker() async throws {
        let h = try EngineHarness()
        let (worker, task) = h.startWorker()
        defer { worker.shutdown() }
        let report = await HealthCheck(jobs: h.jobs, options: HealthCheckOptions(canary: true, canaryTimeout: .seconds(5))).run()
        let canary = try #require(report.finding("canary"))
        #expect(canary.status == .ok, "\(canary.message)")
        let keys = HealthKeys(namespace: h.namespace)
        #expect(keys.canary("m").hasPrefix("\(h.namespace):health:canary:"))
        #expect(try await h.redis.send("KEYS", "\(h.namespace):health:canary*").array?.isEmpty == true, "cleaned up")
        worker.shutdown()
        try await task.value
    }

    /// A worker serving `critical,default` with `critical` paused: the canary runs on `default`. On `critical` it
    /// waited out its timeout and failed the check, while `queue:critical` said the queue was fine (paused).
    @Test func canarySkipsAPausedQueue() async throws {
        let h = try EngineHarness()
        var options = WorkerOptions.fastTest()
        options.queues = QueueSelection(["critical", "default"])
        let (worker, task) = h.startWorker(options: options)
        defer { worker.shutdown() }
        try await beat(h, queues: "critical,default")
        #expect(try await h.jobs.pause(queue: "critical"))
        let report = await HealthCheck(jobs: h.jobs, options: HealthCheckOptions(canary: true, canaryTimeout: .seconds(3))).run()
        let canary = try #require(report.finding("canary"))
        #expect(canary.status == .ok && canary.message.contains("on queue default"), "\(canary.message)")
        #expect(report.finding("queue:critical")?.status == .ok)
        worker.shutdown()
        try await task.value
    }

    /// The canary's `diag.record` sets a TTL on its three keys: a canary that runs after the check gave up (held by a
    /// busy worker, so not cancelled) writes its member again after the check forgot it, and nothing else removes it.
    @Test func aDiagRecordWithATTLLeavesKeysThatExpire() async throws {
        let h = try EngineHarness()
        let (worker, task) = h.startWorker()
        let key = "\(h.namespace):late-canary"
        try await h.jobs.enqueue(DiagRecordJob.Payload(key: key, member: "m", ttlSeconds: 100))
        #expect(try await h.eventually { try await h.redis.send("SISMEMBER", key, "m").int == 1 })
        for name in [key, key + ":count", key + ":attempt"] {
            let ttl = try await h.redis.send("TTL", name).int ?? -1
            #expect(ttl > 0 && ttl <= 100, "\(name): \(ttl)")
        }
        worker.shutdown()
        try await task.value
    }

    @Test func canaryFailsWithinItsTimeoutWithoutAWorker() async throws {
        let h = try EngineHarness()
        let report = await HealthCheck(jobs: h.jobs, options: HealthCheckOptions(canary: true, canaryTimeout: .milliseconds(300))).run()
        let canary = try #require(report.finding("canary"))
        #expect(canary.status == .fail)
        #expect(canary.message.contains("cancelled"))
        // The 300 ms timeout was the one waited for, not the default 10 s (said by the finding, not guessed from a
        // wall clock that a loaded machine stretches).
        #expect(canary.message.contains("did not run within 0.3"), "\(canary.message)")
        let info = try await h.jobs.info(queue: "default")
        #expect(info.ready == 0 && info.scheduled == 0, "the canary does not linger")
    }

    @Test func unreachableRedisEndsTheRunQuickly() async throws {
        let server = try RedisServer()
        server.stop()
        var configuration = try RedisConfiguration(url: server.url)
        configuration.connectTimeout = .milliseconds(300)
        configuration.commandTimeout = .milliseconds(300)
        configuration.reconnectWindow = .milliseconds(300)
        let redis = RedisClient(configuration: configuration)
        defer { redis.close() }
        // The bound is what the run is compared with, under the same load: the same check through a client with the
        // default windows (a 3 s reconnect window) at the same moment. A run that waited per check, or ignored its
        // client's windows, would not end first.
        let slow = RedisClient(configuration: try RedisConfiguration(url: server.url))
        defer { slow.close() }
        let clock = ContinuousClock()
        async let slowElapsed = clock.measure { _ = await HealthCheck(jobs: JobQueue(redis: slow, namespace: "x")).run() }
        let start = clock.now
        let report = await HealthCheck(jobs: JobQueue(redis: redis, namespace: "x")).run()
        let elapsed = clock.now - start
        #expect(report.verdict == .unreachable)
        #expect(report.findings.count == 1)
        #expect(report.finding("redis")?.message.contains("127.0.0.1:\(server.port)") == true)
        let baseline = await slowElapsed
        #expect(elapsed < baseline, "took \(elapsed); with the default windows: \(baseline)")
    }

    @Test func scheduleWithEnabledTasksNeedsALiveScheduler() async throws {
        let h = try EngineHarness()
        try await beat(h)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("hoopoe-schedule-\(UUID().uuidString).yaml")
        defer { try? FileManager.default.removeItem(at: file) }
        try "tasks:\n  - name: t\n    cron: \"* * * * *\"\n    type: diag.record\n".write(to: file, atomically: true, encoding: .utf8)
        let options = HealthCheckOptions(scheduleFile: .at(file))
        #expect(await HealthCheck(jobs: h.jobs, options: options).run().finding("scheduler")?.status == .fail)
        try await beat(h, kind: "scheduler", id: "s1")
        let report = await HealthCheck(jobs: h.jobs, options: options).run()
        #expect(report.finding("scheduler")?.status == .ok, "\(report.findings)")
        let disabled = try ScheduleFile(yaml: "tasks:\n  - name: t\n    cron: \"* * * * *\"\n    type: diag.record\n    enabled: false\n")
        #expect(disabled.enabledTasks.isEmpty)
    }

    /// A Redis that answers but refuses writes (`NOREPLICAS` here; `MISCONF`, which refuses `PING` too, and `OOM` alike):
    /// no heartbeat can be written, and the liveness probe failed every process — a restart of each into the same
    /// refusal. It passes with a warning naming the refusal; the deployment check still fails (exit 1, not 2).
    @Test func aRedisRefusingWritesDoesNotFailTheLivenessProbe() async throws {
        let server = try RedisServer()
        let redis = try RedisClient(url: server.url)
        defer { redis.close() }
        let jobs = JobQueue(redis: redis, namespace: TestRedis.uniquePrefix("refusing"))
        let host = "host-\(UUID().uuidString.prefix(8))"
        _ = try await redis.send("ZADD", jobs.global.processes, "1", "gone-1")  // a heartbeat expired: pruned on reading
        _ = try await redis.send("CONFIG", "SET", "min-replicas-to-write", "1")
        let liveness = await HealthCheck(jobs: jobs, options: HealthCheckOptions(scope: .liveness, host: host)).run()
        #expect(liveness.verdict == .healthy, "\(liveness.findings)")
        let finding = liveness.finding("redis")
        #expect(finding?.status == .warn && finding?.message.contains("refuses writes") == true && finding?.message.contains("NOREPLICAS") == true, "\(liveness.findings)")
        let deployment = await HealthCheck(jobs: jobs, options: HealthCheckOptions()).run()
        #expect(deployment.verdict == .unhealthy, "\(deployment.findings)")

        // At `maxmemory` (noeviction) `PING` and the prune's `ZREM` are taken, and only the beats are refused: the
        // process was failed for a heartbeat Redis would not store. Its own host's record expired here.
        _ = try await redis.send("CONFIG", "SET", "min-replicas-to-write", "0")
        _ = try await redis.send("ZADD", jobs.global.processes, "1", "gone-2")
        _ = try await redis.send("CONFIG", "SET", "maxmemory-policy", "noeviction")
        _ = try await redis.send("CONFIG", "SET", "maxmemory", "1")
        for _ in 0..<2 {  // and again, with nothing left to prune
            let full = await HealthCheck(jobs: jobs, options: HealthCheckOptions(scope: .liveness, host: host)).run()
            #expect(full.verdict == .healthy, "\(full.findings)")
            #expect(full.finding("redis")?.message.contains("refuses writes") == true && full.finding("redis")?.message.contains("OOM") == true, "\(full.findings)")
        }
        _ = try await redis.send("CONFIG", "SET", "maxmemory", "0")
        // Writes taken again and still no heartbeat of this host: gone, as before.
        let gone = await HealthCheck(jobs: jobs, options: HealthCheckOptions(scope: .liveness, host: host)).run()
        #expect(gone.verdict == .unhealthy && gone.finding("process")?.status == .fail, "\(gone.findings)")
    }

    /// Redis reading its data after a restart answers every command `-LOADING`: the liveness probe passes (a restart would
    /// not make it load faster), and the deployment check says unreachable (2), not unhealthy.
    @Test func aRedisStillLoadingIsUnreachableNotAFailedProcess() async throws {
        let port = try RedisServer.freePort()
        let loading = try ChildProcess("/usr/bin/env", ["python3", "-c", WorkerProcessTests.loadingServer, String(port)])
        defer { loading.signal(SIGKILL) }
        #expect(try await eventually(timeout: .seconds(10)) { RedisServer.canConnect(port: port) }, "\(loading.output)")
        let redis = try RedisClient(url: "redis://127.0.0.1:\(port)/0")
        defer { redis.close() }
        let jobs = JobQueue(redis: redis, namespace: TestRedis.uniquePrefix("loading"))
        let liveness = await HealthCheck(jobs: jobs, options: HealthCheckOptions(scope: .liveness)).run()
        #expect(liveness.verdict == .healthy, "\(liveness.findings)")
        #expect(liveness.finding("redis")?.status == .warn && liveness.finding("redis")?.message.contains("LOADING") == true, "\(liveness.findings)")
        let deployment = await HealthCheck(jobs: jobs, options: HealthCheckOptions()).run()
        #expect(deployment.verdict == .unreachable, "\(deployment.findings)")
    }
}

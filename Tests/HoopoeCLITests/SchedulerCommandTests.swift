import Foundation
import HoopoeCore
import HoopoeScheduler
import HoopoeJSON
import Redis
import TestSupport
import Testing

/// `hoopoe scheduler` refuses a bad schedule at start-up, naming the task and the key, and runs a good
/// one: its ticks arrive as jobs and it heartbeats.
@Suite struct SchedulerCommandTests {
    private func schedule(_ yaml: String) throws -> String {
        try TemporaryFiles.write(yaml, prefix: "hoopoe-schedule-", suffix: ".yaml")
    }

    /// A schedule of one task, `every.second`, recording into `<namespace>:ticks`; `extra` adds a line to the task.
    private func everySecond(_ h: CLIHarness, _ extra: String = "") throws -> String {
        try schedule("""
            tasks:
              - name: every.second
                cron: "* * * * * *"
                type: diag.record
                payload: {key: "\(h.namespace):ticks", member: "t"}
            \(extra.isEmpty ? "" : "    \(extra)\n")
            """)
    }

    /// `hoopoe scheduler --schedule path` on the test Redis, in `h`'s namespace, with `environment` added.
    private func startScheduler(_ h: CLIHarness, schedule path: String, environment: [String: String] = [:]) throws -> ChildProcess {
        try ChildProcess(BuiltProducts.hoopoe, ["scheduler", "--schedule", path], environment: [
            "REDIS_URL": try TestRedis.url(), "HOOPOE_NAMESPACE": h.namespace, "LOG_LEVEL": "warning",
        ].merging(environment) { $1 })
    }

    /// The ticks the jobs in the default queue's stream carry, and how many entries it holds.
    private func enqueuedTicks(_ h: CLIHarness) async throws -> (ticks: [Int64], entries: Int) {
        let entries = try await h.redis.send("XRANGE", h.jobs.keys("default").stream, "-", "+").array ?? []
        let ticks = entries.compactMap { entry -> Int64? in
            guard let body = entry.array?.last?.array?.last?.bytes, let envelope = try? JobEnvelope.decode(body) else { return nil }
            guard case .integer(let tick)? = envelope.payload[ScheduleFile.tickPayloadKey] else { return nil }
            return tick
        }
        return (ticks, entries.count)
    }

    @Test(arguments: [
        ("cron: \"0 25 * * *\"", "hour"),
        ("cron: \"* * * * *\"\n    time_zone: Mars/Olympus", "time_zone"),
    ])
    func badScheduleStopsStartUpNamingTheTask(line: String, key: String) async throws {
        let h = try CLIHarness()
        let path = try schedule("tasks:\n  - name: nightly.cleanup\n    \(line)\n    type: diag.record\n")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let (status, output) = try await h.run(["scheduler", "--schedule", path], timeout: .seconds(10))
        #expect(status == 78)
        #expect(output.contains("nightly.cleanup") && output.contains(key), "\(output)")
    }

    /// A payload the task's job type cannot read stops start-up (every tick would go to the dead set, unsaid); a type
    /// this build does not run is only warned about, naming the closest one (a worker of another build may run it).
    @Test func aTasksTypeAndPayloadAreCheckedAgainstTheJobTypes() async throws {
        let h = try CLIHarness()
        let refused = try schedule("tasks:\n  - name: bad.payload\n    cron: \"* * * * *\"\n    type: diag.record\n    payload: {member: 5}\n")
        defer { try? FileManager.default.removeItem(atPath: refused) }
        let (status, output) = try await h.run(["scheduler", "--schedule", refused], timeout: .seconds(10))
        #expect(status == 78, "\(output)")
        #expect(output.contains("task 'bad.payload': payload:"), "\(output)")

        let misspelt = try schedule("tasks:\n  - name: typo\n    cron: \"0 0 1 1 *\"\n    type: diag.recrod\n    payload: {key: k, member: m}\n")
        defer { try? FileManager.default.removeItem(atPath: misspelt) }
        let scheduler = try startScheduler(h, schedule: misspelt)
        #expect(try await eventually { scheduler.output.contains("task 'typo': type 'diag.recrod' is not one this build's workers run (did you mean diag.record?)") }, "\(scheduler.output)")
        #expect(try await eventually { try await !h.jobs.liveProcesses().isEmpty }, "it runs: \(scheduler.output)")
        scheduler.signal(SIGTERM)
        #expect(await scheduler.wait(timeout: .seconds(15)) == 0, "\(scheduler.output)")
    }

    /// SIGTERM while Redis is unreachable: the scheduler stops between tasks and does not wait for its heartbeat's
    /// removal. It went through every task, each call taking seconds to fail, then waited on the removal: 20-25 s with
    /// four tasks, past the supervisors' stop timeouts (15 s in deploy/). Bounded here by that timeout.
    @Test func sigtermWhileRedisIsUnreachableStopsWithinTheStopTimeout() async throws {
        let h = try CLIHarness()
        let server = try RedisServer()
        let tasks = (0..<8).map { "  - {name: t\($0), cron: \"* * * * * *\", type: diag.record, payload: {key: k, member: m}}" }
        let path = try schedule("tasks:\n" + tasks.joined(separator: "\n") + "\n")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let scheduler = try ChildProcess(BuiltProducts.hoopoe, ["scheduler", "--schedule", path], environment: [
            "REDIS_URL": server.url, "HOOPOE_NAMESPACE": h.namespace, "LOG_LEVEL": "warning",
        ])
        defer { scheduler.signal(SIGKILL) }
        let redis = try RedisClient(url: server.url)
        defer { redis.close() }
        #expect(try await h.eventually { try await redis.send("EXISTS", "\(h.namespace):{default}:schedule:t7:last").int == 1 }, "\(scheduler.output)")
        server.stop()
        try await Task.sleep(for: .seconds(3))  // into the rounds of failing tasks
        scheduler.signal(SIGTERM)
        #expect(await scheduler.wait(timeout: .seconds(15)) == 0, "\(scheduler.output)")
    }

    /// SIGTERM while the scheduler starts and Redis does not answer (its clock read and first beat take seconds): it
    /// stopped by the signal, status 143, before the service group that turns SIGTERM into an exit 0 was running.
    @Test func sigtermDuringStartWhileRedisIsUnreachableExitsZero() async throws {
        let h = try CLIHarness()
        let port = try RedisServer.freePort()
        let path = try schedule("tasks:\n  - {name: t, cron: \"* * * * *\", type: diag.record, payload: {key: k, member: m}}\n")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let scheduler = try ChildProcess(BuiltProducts.hoopoe, ["scheduler", "--schedule", path], environment: [
            "REDIS_URL": "redis://127.0.0.1:\(port)", "HOOPOE_NAMESPACE": h.namespace, "LOG_LEVEL": "info",
        ])
        defer { scheduler.signal(SIGKILL) }
        #expect(try await h.eventually { scheduler.output.contains("enabled task(s) from") }, "\(scheduler.output)")
        try await Task.sleep(for: .milliseconds(500))  // into the clock's read, which keeps trying for 3 s
        scheduler.signal(SIGTERM)
        #expect(await scheduler.wait(timeout: .seconds(15)) == 0, "\(scheduler.output)")
    }

    @Test func goodScheduleEnqueuesTicksAndHeartbeats() async throws {
        let h = try CLIHarness()
        let path = try everySecond(h)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let scheduler = try startScheduler(h, schedule: path)
        #expect(try await h.eventually { try await h.jobs.info(queue: "default").ready >= 2 }, "\(scheduler.output)")
        #expect(try await h.jobs.liveProcesses().contains { $0.kind == "scheduler" })
        scheduler.signal(SIGTERM)
        #expect(await scheduler.wait(timeout: .seconds(10)) == 0, "\(scheduler.output)")
        #expect(try await h.jobs.liveProcesses().isEmpty, "an orderly stop removes the heartbeat")
    }

    /// A scheduler on a host whose clock runs up to two hours ahead (libfaketime) plans by Redis's clock: its ticks are Redis's
    /// seconds, and the task's last tick is not moved two hours ahead, where every scheduler on a right clock stopped
    /// enqueuing the task until then (decision 0083). (Not a year: under libfaketime, offsets of months stop the Swift
    /// runtime's sleeps, which a host whose clocks are all wrong alike does not do.)
    @Test func aSchedulerWhoseClockRunsAheadTicksByRedisClock() async throws {
        #expect(FileManager.default.fileExists(atPath: FakeClock.library), "libfaketime is missing: scripts/install-deps.sh installs it")
        let h = try CLIHarness()
        let path = try everySecond(h)
        defer { try? FileManager.default.removeItem(atPath: path) }
        // Two hours ahead where the machine allows it, three minutes at least: beyond the ±120 s looked at below.
        let offset = try await FakeClock.aheadOffset(preferred: 7_200, atLeast: 180)
        let scheduler = try startScheduler(h, schedule: path, environment: FakeClock.environment(offset: offset))
        defer { scheduler.signal(SIGKILL) }
        #expect(try await h.eventually { try await h.jobs.info(queue: "default").ready >= 2 }, "\(scheduler.output)")
        let redisNow = Double(try await h.redis.send("TIME").array?.first?.string ?? "") ?? 0
        let ticks = try await enqueuedTicks(h).ticks
        #expect(ticks.count >= 2 && ticks.allSatisfy { abs(Double($0) - redisNow) < 120 }, "ticks \(ticks), Redis's clock \(redisNow)")
        let last = Double(try await h.redis.send("GET", "\(h.namespace):{default}:schedule:every.second:last").string ?? "") ?? 0
        #expect(abs(last - redisNow) < 120, "the last tick \(last), Redis's clock \(redisNow)")
        #expect(scheduler.poll() == nil, "the scheduler exited: \(scheduler.output)")
    }

    /// A scheduler on a host whose clock runs behind the checker's is alive to `health-check`: a beat's age is read by
    /// Redis's clock (the TTL left), not from the beating host's `beat_at` against the checking host's clock, which
    /// read a live scheduler 60 s behind as 60 s silent, and reported no live scheduler. (The checker runs ahead here,
    /// under libfaketime: a scheduler under a negative offset never wakes from its first sleep, which a host whose
    /// clocks are all behind alike does not do.)
    @Test func aSchedulerWhoseClockRunsBehindTheCheckersIsAlive() async throws {
        #expect(FileManager.default.fileExists(atPath: FakeClock.library), "libfaketime is missing: scripts/install-deps.sh installs it")
        let h = try CLIHarness()
        let path = try everySecond(h)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let scheduler = try startScheduler(h, schedule: path)
        defer { scheduler.signal(SIGKILL) }
        #expect(try await h.eventually { try await h.jobs.info(queue: "default").ready >= 2 }, "\(scheduler.output)")
        let (status, output) = try await h.run(["health-check", "--schedule", path], environment: FakeClock.environment(offset: "+60s"))
        let line = output.split(separator: "\n").first { $0.hasPrefix("ok") && $0.contains("scheduler") }
        // The status too: once (session 52, in make test's parallel phase) the check printed nothing but libfaketime's
        // notice, and passed on every run alone.
        #expect(line != nil, "exit \(status): \(output)")
    }

    /// Issue 11: with no stored history a scheduler starts from now. A per-second task used to get every tick of
    /// the last 60 s (its grace period) at once.
    @Test func aFirstStartEnqueuesNoPastTick() async throws {
        let h = try CLIHarness()
        let path = try everySecond(h, "catch_up: once")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let started = Date().timeIntervalSince1970.rounded(.down)
        let scheduler = try startScheduler(h, schedule: path)
        defer { scheduler.signal(SIGKILL) }
        #expect(try await h.eventually { try await h.jobs.info(queue: "default").ready >= 1 }, "\(scheduler.output)")
        scheduler.signal(SIGTERM)
        #expect(await scheduler.wait(timeout: .seconds(10)) == 0, "\(scheduler.output)")
        let stopped = Date().timeIntervalSince1970
        let (ticks, entries) = try await enqueuedTicks(h)
        #expect(!ticks.isEmpty && ticks.count == entries)
        #expect(ticks.allSatisfy { Double($0) > started - 1 }, "no tick from before the start (\(Int64(started))): \(ticks.sorted())")
        // At most one tick a second it ran, however long a loaded machine made that (a replay of the 60 s grace
        // period would be far more).
        let ranFor = Int((stopped - started).rounded(.up))
        #expect(ticks.count <= ranFor + 1, "\(ticks.count) ticks in \(ranFor) s")
        #expect(Set(ticks).count == ticks.count, "no tick twice: \(ticks.sorted())")
    }

    /// `hoopoe scheduler --help`'s promise for a rolling restart that moves a task to another queue: with the old file
    /// and the new one running side by side, each tick is one job, in the queue of the scheduler that claimed it first,
    /// and the other scheduler logs a warning naming that queue (docs/decisions/0097).
    ///
    /// Both files have run before (each queue's slot holds the task's history, a few seconds old), so each scheduler
    /// plans every tick from its own and the one that claims second warns, at every tick. Without the new file's history
    /// it read the old file's (a moved history) and, when the old scheduler had stored the tick before it read, planned
    /// nothing: whether any warning came depended on that race (JobQueueTickSinkTests' version of this test saw none in
    /// 25 ticks on CI).
    @Test func schedulersWhoseFilesDifferInATasksQueueEnqueueEachTickOnce() async throws {
        let h = try CLIHarness()
        let old = try everySecond(h)
        let new = try everySecond(h, "queue: moved")
        defer { for path in [old, new] { try? FileManager.default.removeItem(atPath: path) } }
        let store = RedisLastTickStore(redis: h.redis, prefix: h.namespace)
        let redisNow = Double(try await h.redis.send("TIME").array?.first?.string ?? "") ?? 0
        for path in [old, new] {
            let task = try #require(try ScheduleFile.load(contentsOf: URL(fileURLWithPath: path)).tasks.first)
            try await store.advanceLastTick(of: task, to: Date(timeIntervalSince1970: redisNow - 3))
        }
        let schedulers = try [old, new].map { try startScheduler(h, schedule: $0) }
        defer { for scheduler in schedulers { scheduler.signal(SIGKILL) } }
        let warned = try await h.eventually(timeout: .seconds(20)) {
            schedulers.contains { $0.output.contains("went to queue") }
        }
        #expect(warned, "\(schedulers.map(\.output))")
        let ran = try await h.eventually(timeout: .seconds(20)) {
            try await h.jobs.info(queue: "default").ready + h.jobs.info(queue: "moved").ready >= 3
        }
        #expect(ran, "\(schedulers.map(\.output))")
        for scheduler in schedulers {
            scheduler.signal(SIGTERM)
            #expect(await scheduler.wait(timeout: .seconds(10)) == 0, "\(scheduler.output)")
        }
        var ticks: [Int64] = []
        for queue in ["default", "moved"] {
            for entry in try await h.redis.send("XRANGE", h.jobs.keys(queue).stream, "-", "+").array ?? [] {
                guard let body = entry.array?.last?.array?.last?.bytes, let envelope = try? JobEnvelope.decode(body),
                    case .integer(let tick)? = envelope.payload[ScheduleFile.tickPayloadKey] else { continue }
                ticks.append(tick)
            }
        }
        #expect(ticks.count >= 2 && Set(ticks).count == ticks.count, "no tick twice across the two queues: \(ticks.sorted())")
        let line = schedulers.flatMap { $0.output.split(separator: "\n") }.first { $0.contains("went to queue") } ?? ""
        #expect(line.contains("every.second") && (line.contains("queue moved") || line.contains("queue default")), "\(line)")
    }
}

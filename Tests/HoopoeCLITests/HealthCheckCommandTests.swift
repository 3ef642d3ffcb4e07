import Foundation
import HoopoeCore
import HoopoeJSON
import Redis
import TestSupport
import Testing

/// `hoopoe health-check` as a probe sees it: exit codes and output.
struct HealthCheckCommandTests {
    @Test func unreachableRedisExits2NamingTheHost() async throws {
        let h = try CLIHarness()
        let server = try RedisServer()
        server.stop()
        // `--timeout` bounds the wait: compared, under the same load, with the same probe at the same moment without
        // it (the default 3 s reconnect window), not with a wall-clock guess a loaded machine stretches.
        let clock = ContinuousClock()
        async let withDefault = clock.measure { _ = try await h.run(["health-check", "--redis-url", server.url]) }
        let start = clock.now
        let (status, output) = try await h.run(["health-check", "--redis-url", server.url, "--timeout", "0.5s"])
        let elapsed = clock.now - start
        #expect(status == 2, "\(output)")
        #expect(output.contains("127.0.0.1:\(server.port)"))
        #expect(output.contains("unreachable"))
        let baseline = try await withDefault
        #expect(elapsed < baseline, "took \(elapsed); without --timeout: \(baseline)")
    }

    /// A Redis that accepts connections and never answers (stopped, a paused VM): `--timeout` bounds the probe though
    /// the URL asks for a long reply timeout. It did not (the URL's won), and a Kubernetes probe was killed instead of
    /// getting exit 2.
    @Test func theTimeoutBoundsTheProbeWhateverTheURLsTimeout() async throws {
        let h = try CLIHarness()
        let server = try RedisServer()
        defer { server.stop() }
        server.freeze()
        defer { server.thaw() }
        let clock = ContinuousClock()
        let start = clock.now
        let (status, output) = try await h.run(["health-check", "--redis-url", "redis://127.0.0.1:\(server.port)/0?timeout=60", "--timeout", "0.5s"])
        let elapsed = clock.now - start
        #expect(status == 2, "\(output)")
        #expect(elapsed < .seconds(30), "took \(elapsed): the URL's 60 s, not --timeout's 0.5 s")
    }

    @Test func noLiveWorkerExits1() async throws {
        let h = try CLIHarness()
        let (status, output) = try await h.run(["health-check", "--schedule", noSchedule])
        #expect(status == 1, "\(output)")
        #expect(output.contains("fail    workers"))
        #expect(output.contains("unhealthy"))
    }

    @Test func aScheduleFileNamedButMissingExits1NamingIt() async throws {
        let h = try CLIHarness()
        try await Heartbeat(kind: "worker", id: "w1", jobs: h.jobs) { ["queues": "default"] }.beat()
        let (healthy, fine) = try await h.run(["health-check", "--schedule", noSchedule])
        #expect(healthy == 0, "\(fine)")
        let (status, output) = try await h.run(["health-check", "--schedule", "/nonexistent/hoopoe-schedule.yaml"])
        #expect(status == 1, "\(output)")
        #expect(output.contains("no schedule file at /nonexistent/hoopoe-schedule.yaml (--schedule)"), "\(output)")
    }

    @Test func latencyOverTheLimitExits1() async throws {
        let h = try CLIHarness()
        try await Heartbeat(kind: "worker", id: "w1", jobs: h.jobs) { ["queues": "default,slow"] }.beat()
        try await h.jobs.enqueue(type: "diag.record", payload: .object([:]), options: EnqueueOptions(queue: "slow"))
        try await Task.sleep(for: .milliseconds(250))
        let (status, json) = try await h.json(["health-check", "--json", "--schedule", noSchedule, "--max-latency", "100ms"])
        #expect(status == 1)
        #expect(json["status"] == .string("unhealthy"))
        let failed = (json["checks"]?.arrayValue ?? []).filter { $0["status"] == .string("fail") }.compactMap { $0["name"]?.stringValue }
        #expect(failed == ["queue:slow"], "only the latency fails: \(json.encoded().count) bytes")
        let (relaxed, _) = try await h.run(["health-check", "--schedule", noSchedule, "--max-latency", "1m"])
        #expect(relaxed == 0)
    }

    /// The false alarm of issue 11: one job in a queue no worker serves must not make a probe restart healthy
    /// workers. A real worker serves `default`; a stray job waits in `emails`.
    @Test func aStrayJobInAnUnservedQueueWarnsAndLivenessStaysOK() async throws {
        let h = try CLIHarness()
        let worker = try await h.startWorker(["--queues", "default"])
        defer { worker.signal(SIGKILL) }
        try await h.jobs.enqueue(type: "diag.record", payload: .object([:]), options: EnqueueOptions(queue: "emails"))
        try await Task.sleep(for: .milliseconds(250))

        let (live, liveOutput) = try await h.run(["health-check", "--liveness"])
        #expect(live == 0, "\(liveOutput)")
        #expect(liveOutput.contains("ok      process") && !liveOutput.contains("emails"), "\(liveOutput)")

        let (status, output) = try await h.run(["health-check", "--schedule", noSchedule, "--max-latency", "100ms"])
        #expect(status == 0, "a warning, not a failure: \(output)")
        #expect(output.contains("warn    queue:emails") && output.contains("no worker serves `emails`: 1 job waiting"), "\(output)")
    }

    /// The review's case: SIGTSTP to the only worker of `critical,default,low`, then a job for `low`. `hoopoe enqueue`
    /// printed only the id and the health check passed `workers` and failed the queue's latency with no hint why, as
    /// the quiet worker's heartbeat went on listing its queues. Its heartbeat now says `quiet` at once (well within a
    /// beat's 5 s), and every reader tells it from a worker that serves.
    @Test func aQuietWorkerServesNoQueueAndEveryCommandSaysSo() async throws {
        let h = try CLIHarness()
        let worker = try await h.startWorker(["--queues", "critical,default,low"])
        defer { worker.signal(SIGKILL) }
        let id = try #require(try await h.jobs.liveProcesses().first { $0.kind == "worker" }?.id)
        let payload = #"{"key":"k","member":"m"}"#
        let served = try await h.run(["enqueue", "diag.record", "--payload", payload, "--queue", "low", "--in", "1h"])
        #expect(served.status == 0 && !served.output.contains("warning"), "\(served.output)")

        worker.signal(SIGTSTP)
        let signalled = ContinuousClock.now
        #expect(try await h.eventually { try await h.jobs.liveProcesses().first { $0.id == id }?.workerState == .quiet })
        #expect(ContinuousClock.now - signalled < .seconds(4), "said at once, not at the next beat")
        let enqueued = try await h.run(["enqueue", "diag.record", "--payload", payload, "--queue", "low"])
        #expect(enqueued.status == 0, "\(enqueued.output)")
        #expect(
            enqueued.output.contains(
                "warning: no live worker serves queue `low`; worker \(id) (quiet) lists it but fetches nothing new: the job waits until one does"),
            "\(enqueued.output)")

        let (status, output) = try await h.run(["health-check", "--schedule", noSchedule, "--max-latency", "5s"])
        #expect(status == 0, "a warning, not a failure: \(output)")
        #expect(output.contains("warn    queue:low") && output.contains("no worker serves `low`: 2 jobs waiting (1 ready, 1 scheduled or retrying); worker \(id) (quiet)"), "\(output)")
        #expect(output.contains("1 live worker(s), 0/20 busy; 1 fetching nothing new: \(id) (quiet)"), "\(output)")
        let (_, queues) = try await h.json(["queues", "--json"])
        #expect(queues["workers"]?.arrayValue?.first?["state"] == .string("quiet"), "\(queues)")
        #expect(try await h.jobs.info(queue: "low").ready == 1, "the quiet worker took nothing")
        worker.signal(SIGTERM)
        #expect(await worker.wait(timeout: .seconds(10)) == 0, "\(worker.output)")
    }

    /// A Redis outage made every liveness probe fail (exit 2), and Kubernetes restarted every healthy worker and
    /// scheduler a few minutes into it; the restarted ones met its restart backoff when Redis came back.
    @Test func livenessPassesWithAWarningWhileRedisIsUnreachable() async throws {
        let h = try CLIHarness()
        let server = try RedisServer()
        server.stop()
        let (status, output) = try await h.run(["health-check", "--liveness", "--redis-url", server.url, "--timeout", "0.5s"])
        #expect(status == 0, "\(output)")
        #expect(output.contains("warn    redis") && output.contains("unreachable") && output.contains("127.0.0.1:\(server.port)"), "\(output)")
        let (deployment, _) = try await h.run(["health-check", "--redis-url", server.url, "--timeout", "0.5s"])
        #expect(deployment == 2, "the deployment check still says unreachable")
    }

    @Test func livenessFailsWhenThisHostHasNoLiveProcess() async throws {
        let h = try CLIHarness()
        try await Heartbeat(kind: "worker", id: "elsewhere:1:AAAAAA", jobs: h.jobs) { ["host": "another-host", "queues": "default"] }.beat()
        let (status, output) = try await h.run(["health-check", "--liveness"])
        #expect(status == 1, "\(output)")
        #expect(output.contains("fail    process") && output.contains("no Hoopoe process on host"), "\(output)")
        let (named, namedOutput) = try await h.run(["health-check", "--liveness", "--worker", "elsewhere:1:AAAAAA"])
        #expect(named == 0, "\(namedOutput)")
    }

    @Test func badDurationIsAOneLineUsageError() async throws {
        let h = try CLIHarness()
        let (status, output) = try await h.run(["health-check", "--max-latency", "5x"])
        #expect(status == 64)
        #expect(output.contains("--max-latency '5x' is not a duration"))
    }

    @Test func healthyWithAWorkerProcessAndTheCanaryPasses() async throws {
        let h = try CLIHarness()
        let worker = try await h.startWorker(["--concurrency", "2"])
        let (status, json) = try await h.json(["health-check", "--json", "--schedule", noSchedule])
        #expect(status == 0, "\(json)")
        #expect(json["status"] == .string("healthy"))
        let names = (json["checks"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }
        for name in ["redis", "redis_second_connection", "redis_version", "maxmemory_policy", "workers", "scheduler", "dead_jobs"] {
            #expect(names.contains(name), "\(name) in \(names)")
        }
        let workers = (json["checks"]?.arrayValue ?? []).first { $0["name"] == .string("workers") }
        #expect(workers?["live_workers"] == .integer(1))

        let (canaryStatus, canaryJSON) = try await h.json(["health-check", "--json", "--schedule", noSchedule, "--canary", "--canary-timeout", "5s"])
        let canary = (canaryJSON["checks"]?.arrayValue ?? []).first { $0["name"] == .string("canary") }
        #expect(canaryStatus == 0, "\(canaryJSON)")
        #expect(canary?["status"] == .string("ok"))
        worker.signal(SIGTERM)
        #expect(await worker.wait(timeout: .seconds(10)) == 0)
    }

    @Test func canaryWithoutAWorkerFailsWithinItsTimeout() async throws {
        let h = try CLIHarness()
        let (status, output) = try await h.run(["health-check", "--schedule", noSchedule, "--canary", "--canary-timeout", "300ms"])
        #expect(status == 1)
        #expect(output.contains("fail    canary"))
        #expect(try await h.jobs.info(queue: "default").ready == 0, "the canary was cancelled")
    }
}

import Foundation
import HoopoeCore
import HoopoeJSON
import Redis
import TestSupport
import Testing

/// The worker as a process: killed with SIGKILL, stopped with SIGTERM (once, twice), made quiet with SIGTSTP —
/// the signals `hoopoe worker --help` documents.
@Suite(.serialized) struct WorkerProcessTests {
    private func worker(_ h: EngineHarness, _ arguments: [String], logLevel: String = "warning") throws -> ChildProcess {
        try ChildProcess(BuiltProducts.hoopoe, ["worker"] + arguments, environment: [
            "REDIS_URL": try TestRedis.url(), "HOOPOE_NAMESPACE": h.namespace, "LOG_LEVEL": logLevel,
        ])
    }

    /// A worker started while Redis is down (started before it, or during an outage) waits for it, saying so, and
    /// runs jobs once it answers; stopped while it waits, it exits 0. Before, it exited 2 at once, and a supervisor's
    /// backoff kept it down after Redis was back.
    @Test func aWorkerStartedBeforeRedisWaitsForIt() async throws {
        let server = try RedisServer()
        server.stop()
        let namespace = TestRedis.uniquePrefix("wait")
        let environment = ["REDIS_URL": server.url, "HOOPOE_NAMESPACE": namespace, "LOG_LEVEL": "info"]
        let worker = try ChildProcess(BuiltProducts.hoopoe, ["worker"], environment: environment)
        defer { worker.signal(SIGKILL) }
        #expect(try await eventually(timeout: .seconds(20)) { worker.output.contains("waiting for Redis before starting") }, "\(worker.output)")
        try server.start()
        let redis = try RedisClient(url: server.url)
        defer { redis.close() }
        let jobs = JobQueue(redis: redis, namespace: namespace)
        let key = "\(namespace):ran"
        try await jobs.enqueue(type: "diag.record", payload: .object(["key": .string(key), "member": "m"]))
        #expect(try await eventually(timeout: .seconds(20)) { try await redis.send("SISMEMBER", key, "m").int == 1 }, "\(worker.output)")
        worker.signal(SIGTERM)
        #expect(await worker.wait(timeout: .seconds(30)) == 0, "\(worker.output)")

        server.stop()
        let waiting = try ChildProcess(BuiltProducts.hoopoe, ["worker"], environment: environment)
        defer { waiting.signal(SIGKILL) }
        #expect(try await eventually(timeout: .seconds(20)) { waiting.output.contains("waiting for Redis before starting") }, "\(waiting.output)")
        waiting.signal(SIGTERM)
        #expect(await waiting.wait(timeout: .seconds(10)) == 0, "stopped while waiting: \(waiting.output)")
    }

    /// A server that answers every command `-LOADING`, as Redis does while it reads its data after a restart (AOF on,
    /// as deploy/redis.conf has it). A worker started then exited 2 on its first heartbeat's refusal.
    static let loadingServer = #"""
        import socket, sys, threading
        def serve(conn):
            buf = b""
            while True:
                data = conn.recv(65536)
                if not data:
                    return
                buf += data
                replies = 0
                while True:  # one -LOADING for each whole RESP command in the buffer
                    if not buf.startswith(b"*") or b"\r\n" not in buf:
                        break
                    head, rest = buf.split(b"\r\n", 1)
                    count, ok = int(head[1:]), True
                    for _ in range(count):
                        if b"\r\n" not in rest:
                            ok = False
                            break
                        size, rest = rest.split(b"\r\n", 1)
                        n = int(size[1:])
                        if len(rest) < n + 2:
                            ok = False
                            break
                        rest = rest[n + 2:]
                    if not ok:
                        break
                    buf, replies = rest, replies + 1
                conn.sendall(b"-LOADING Redis is loading the dataset in memory\r\n" * replies)
        server = socket.socket()
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", int(sys.argv[1])))
        server.listen(16)
        while True:
            conn, _ = server.accept()
            threading.Thread(target=serve, args=(conn,), daemon=True).start()
        """#

    @Test func aWorkerStartedWhileRedisLoadsItsDataWaitsForIt() async throws {
        let port = try RedisServer.freePort()
        let loading = try ChildProcess("/usr/bin/env", ["python3", "-c", Self.loadingServer, String(port)])
        defer { loading.signal(SIGKILL) }
        #expect(try await eventually(timeout: .seconds(10)) { RedisServer.canConnect(port: port) }, "\(loading.output)")
        let worker = try ChildProcess(BuiltProducts.hoopoe, ["worker"], environment: [
            "REDIS_URL": "redis://127.0.0.1:\(port)/0", "HOOPOE_NAMESPACE": TestRedis.uniquePrefix("loading"), "LOG_LEVEL": "info",
        ])
        defer { worker.signal(SIGKILL) }
        #expect(try await eventually(timeout: .seconds(20)) { worker.output.contains("waiting for Redis before starting") && worker.output.contains("LOADING") }, "\(worker.output)")
        #expect(worker.poll() == nil, "the worker exited: \(worker.output)")
        worker.signal(SIGTERM)
        #expect(await worker.wait(timeout: .seconds(10)) == 0, "stopped while waiting: \(worker.output)")
    }

    /// A Redis refusing writes (`min-replicas-to-write` unmet: `NOREPLICAS`; a failed save and `maxmemory` likewise)
    /// refused the first heartbeat, and the worker exited 2 into its supervisor's backoff, down long after the replica
    /// was back. It waits, and starts when writes are taken again.
    @Test func aWorkerStartedWhileRedisRefusesWritesWaitsForIt() async throws {
        let server = try RedisServer()
        let redis = try RedisClient(url: server.url)
        defer { redis.close() }
        _ = try await redis.send("CONFIG", "SET", "min-replicas-to-write", "1")
        let namespace = TestRedis.uniquePrefix("refusing")
        let worker = try ChildProcess(BuiltProducts.hoopoe, ["worker"], environment: ["REDIS_URL": server.url, "HOOPOE_NAMESPACE": namespace, "LOG_LEVEL": "info"])
        defer { worker.signal(SIGKILL) }
        #expect(try await eventually(timeout: .seconds(20)) { worker.output.contains("waiting for Redis before starting") && worker.output.contains("NOREPLICAS") }, "\(worker.output)")
        #expect(worker.poll() == nil, "the worker exited: \(worker.output)")
        _ = try await redis.send("CONFIG", "SET", "min-replicas-to-write", "0")
        let jobs = JobQueue(redis: redis, namespace: namespace)
        let key = "\(namespace):ran"
        try await jobs.enqueue(type: "diag.record", payload: .object(["key": .string(key), "member": "m"]))
        #expect(try await eventually(timeout: .seconds(20)) { try await redis.send("SISMEMBER", key, "m").int == 1 }, "\(worker.output)")
        worker.signal(SIGTERM)
        #expect(await worker.wait(timeout: .seconds(30)) == 0, "\(worker.output)")
    }

    /// With the default lease (10 s) a killed worker's jobs are claimed by another worker within 15 s of the kill — the
    /// bound `hoopoe worker --help` and docs/operating.md promise (decision 0032) — and nothing is lost.
    @Test func sigkillLosesNothingAndRecoveryCountsAnAttempt() async throws {
        let h = try EngineHarness()
        let key = "\(h.namespace):crash"
        _ = try await h.jobs.enqueueBatch((0..<500).map { (type: "diag.record", payload: h.diag(key: key, member: "m\($0)", sleepMs: 3_000), options: EnqueueOptions()) })
        let first = try worker(h, ["--concurrency", "500"])
        #expect(try await h.eventually { try await h.jobs.info(queue: "default").inFlight == 500 }, "\(first.output)")
        first.signal(SIGKILL)
        let killedAt = ContinuousClock.now
        #expect(await first.wait(timeout: .seconds(5)) == 128 + SIGKILL)
        #expect(try await h.recorded(key).isEmpty, "every job was still sleeping when the worker died")

        let second = try worker(h, ["--concurrency", "500"])
        // Recovered = claimed by the second worker (a second delivery), which starts them at once (concurrency 500).
        let stream = h.jobs.keys("default").stream
        #expect(try await h.eventually(timeout: .seconds(20)) {
            let pending = try await h.redis.send("XPENDING", stream, QueueKeys.group, "-", "+", "1000").array ?? []
            return pending.count == 500 && pending.allSatisfy { $0.array?[3].int == 2 }
        }, "\(second.output)")
        let recoveredWithin = ContinuousClock.now - killedAt
        #expect(recoveredWithin <= .seconds(15), "recovery took \(recoveredWithin)")
        #expect(try await h.eventually(timeout: .seconds(15)) { try await h.recorded(key).count == 500 }, "\(second.output)")
        let attempts = try await h.redis.send("HVALS", key + ":attempt").array?.compactMap(\.int) ?? []
        #expect(attempts.count == 500 && attempts.allSatisfy { $0 == 2 }, "lost runs count as attempts: \(Set(attempts))")
        second.signal(SIGTERM)
        #expect(await second.wait(timeout: .seconds(10)) == 0)
        let info = try await h.jobs.info(queue: "default")
        #expect(info.ready == 0 && info.inFlight == 0 && info.dead == 0)
        // At least once is the promise for a run lost with its worker, and none of those runs got as far as recording
        // (checked above, once the first worker was gone): each job ran to its end once, on the second worker. Counted
        // after that worker's graceful stop, so a second copy of a recovered job (one recovery claimed again into the
        // same buffer, a job run from two buffers) would have finished and shows as 2.
        let runs = try await h.recorded(key)
        let twice = runs.filter { $0.value != 1 }
        #expect(runs.count == 500 && twice.isEmpty, "\(runs.count) jobs ran; not once: \(twice.sorted { $0.key < $1.key }.prefix(10))")
        #expect(runs.values.reduce(0, +) == 500, "runs in all: \(runs.values.reduce(0, +)) for 500 jobs")
    }

    @Test func sigtermFinishesWhatItCanAndHandsTheRestBackAtOnce() async throws {
        let h = try EngineHarness()
        let key = "\(h.namespace):term"
        var batch: [(type: String, payload: JSONValue, options: EnqueueOptions)] = []
        for i in 0..<200 {
            // 2 s for the short ones: all 200 must be seen in flight together before the first 100 finish.
            batch.append(("diag.record", h.diag(key: key, member: "m\(i)", sleepMs: i < 100 ? 2_000 : 20_000), EnqueueOptions()))
        }
        _ = try await h.jobs.enqueueBatch(batch)
        let process = try worker(h, ["--concurrency", "200", "--shutdown-timeout", "0.5"])
        #expect(try await h.eventually { try await h.jobs.info(queue: "default").inFlight == 200 }, "\(process.output)")
        #expect(try await h.eventually { try await h.recorded(key).count == 100 })
        process.signal(SIGTERM)
        let signalled = ContinuousClock.now
        #expect(try await h.eventually(timeout: .seconds(5)) {
            let info = try await h.jobs.info(queue: "default")
            return info.ready == 100 && info.inFlight == 0
        })
        let handedBackWithin = ContinuousClock.now - signalled
        // At once: well before the 20 s jobs would end (3 s, not tighter: a loaded machine's process wakes late).
        #expect(handedBackWithin < .seconds(3), "hand-back took \(handedBackWithin)")
        #expect(await process.wait(timeout: .seconds(5)) == 0, "\(process.output)")
        let counters = try await h.jobs.counters(queue: "default")
        #expect(counters["processed"] == 100)
        #expect(counters["failed"] == nil && counters["dead"] == nil)
        #expect(try await h.recorded(key).count == 100)  // none lost: 100 done + 100 ready again
    }

    /// The first SIGTERM lets running jobs go on (the shutdown timeout is a minute here); a second one hands them back
    /// at once, unfinished, and the worker exits 0.
    @Test func aSecondSigtermHandsRunningJobsBackAtOnce() async throws {
        let h = try EngineHarness()
        let key = "\(h.namespace):twice"
        _ = try await h.jobs.enqueueBatch((0..<20).map { (type: "diag.record", payload: h.diag(key: key, member: "m\($0)", sleepMs: 20_000), options: EnqueueOptions()) })
        let process = try worker(h, ["--concurrency", "20", "--shutdown-timeout", "60"], logLevel: "notice")
        #expect(try await h.eventually { try await h.jobs.info(queue: "default").inFlight == 20 }, "\(process.output)")
        // Running, not only fetched: a job still in the buffer at the first SIGTERM is handed back, and with none running
        // the worker exits (a make test run sent the signal 18 ms after start, and it did). The heartbeat's `busy`
        // counts running jobs (a beat every 5 s).
        #expect(try await h.eventually(timeout: .seconds(15)) { try await h.jobs.liveProcesses().first?.fields["busy"] == "20" }, "\(process.output)")
        process.signal(SIGTERM)
        #expect(try await h.eventually { process.output.contains("SIGTERM: graceful shutdown") }, "\(process.output)")
        try await Task.sleep(for: .milliseconds(500))
        #expect(try await h.jobs.info(queue: "default").inFlight == 20, "after one SIGTERM the running jobs go on")
        #expect(process.poll() == nil, "the worker waits for its running jobs")
        process.signal(SIGTERM)
        let signalled = ContinuousClock.now
        #expect(try await h.eventually(timeout: .seconds(5)) {
            let info = try await h.jobs.info(queue: "default")
            return info.ready == 20 && info.inFlight == 0
        }, "\(process.output)")
        let handedBackWithin = ContinuousClock.now - signalled
        // At once: well before the 20 s jobs would end (3 s, not tighter: a loaded machine's process wakes late).
        #expect(handedBackWithin < .seconds(3), "hand-back took \(handedBackWithin)")
        #expect(await process.wait(timeout: .seconds(5)) == 0, "\(process.output)")
        #expect(process.output.contains("SIGTERM: stopping now"), "\(process.output)")
        #expect(try await h.recorded(key).isEmpty, "none finished: all were handed back")
        let counters = try await h.jobs.counters(queue: "default")
        #expect(counters["processed"] == nil && counters["failed"] == nil && counters["dead"] == nil)
    }

    /// SIGTSTP makes the worker quiet: the running job finishes, a job enqueued afterwards is not fetched (not even by
    /// the blocking read already waiting when the signal came), the process keeps running, and SIGTERM then stops it.
    @Test func sigtstpMakesTheWorkerQuiet() async throws {
        let h = try EngineHarness()
        let key = "\(h.namespace):quiet"
        _ = try await h.jobs.enqueueBatch([(type: "diag.record", payload: h.diag(key: key, member: "running", sleepMs: 4_000), options: EnqueueOptions())])  // seen running, then signalled, inside it
        let process = try worker(h, ["--concurrency", "2"], logLevel: "info")
        #expect(try await h.eventually { try await h.jobs.info(queue: "default").inFlight == 1 }, "\(process.output)")
        process.signal(SIGTSTP)
        #expect(try await h.eventually { process.output.contains("quiet: no new jobs will be fetched") }, "\(process.output)")
        try await Task.sleep(for: .milliseconds(300))
        _ = try await h.jobs.enqueueBatch([(type: "diag.record", payload: h.diag(key: key, member: "later", sleepMs: 0), options: EnqueueOptions())])
        #expect(try await h.eventually { try await h.recorded(key)["running"] != nil }, "the running job finishes: \(process.output)")
        try await Task.sleep(for: .milliseconds(1_500))
        let info = try await h.jobs.info(queue: "default")
        #expect(info.ready == 1 && info.inFlight == 0, "the later job waits in its queue: \(info)")
        #expect(try await h.recorded(key)["later"] == nil)
        #expect(process.poll() == nil, "SIGTSTP does not stop the process")
        process.signal(SIGTERM)
        #expect(await process.wait(timeout: .seconds(5)) == 0, "\(process.output)")
        #expect(try await h.jobs.info(queue: "default").ready == 1)
    }

    /// The threads docs/operating.md names are there under those names, as `top -H` and `ps -L` show them: the two
    /// shared connections' (which also run the handlers, decision 0072), the fetch's (which also runs the fetch loop,
    /// decision 0061), lease renewal's connection and timer, and the heartbeat's connection and loop (decision 0073).
    @Test func aWorkersThreadsCarryTheirNames() async throws {
        let h = try EngineHarness()
        let key = "\(h.namespace):names"
        let process = try worker(h, ["--concurrency", "2"])
        _ = try await h.jobs.enqueueBatch([(type: "diag.record", payload: h.diag(key: key, member: "one", sleepMs: 0), options: EnqueueOptions())])
        #expect(try await h.eventually { try await h.recorded(key)["one"] != nil }, "\(process.output)")
        let tasks = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(process.pid)/task")
        let names = Set(tasks.compactMap { try? String(contentsOfFile: "/proc/\(process.pid)/task/\($0)/comm", encoding: .utf8) }
            .map { $0.trimmingCharacters(in: .newlines) })
        #expect(names.isSuperset(of: ["hoopoe-redis-0", "hoopoe-redis-1", "hoopoe-fetch", "hoopoe-renew", "hoopoe-lease", "hoopoe-beat", "hoopoe-pulse"]), "\(names.sorted())")
        process.signal(SIGTERM)
        #expect(await process.wait(timeout: .seconds(5)) == 0, "\(process.output)")
    }
}

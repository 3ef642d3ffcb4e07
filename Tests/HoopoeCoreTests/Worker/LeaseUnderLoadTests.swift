import Foundation
import HoopoeJSON
import Redis
import TestSupport
import Testing

@testable import HoopoeCore

/// A live worker keeps its jobs (decision 0032): with the default 10 s lease, busy CPUs, handlers that block every
/// cooperative thread for longer than the lease, jobs that run longer than the lease and a shutdown that waits for
/// running jobs do not let another worker take them. A job taken from a live worker would run twice.
@Suite(.serialized) struct LeaseUnderLoadTests {
    /// Waits at its test's gate (opened once the test has seen every job fetched and started the watcher, while the pool
    /// still runs: a fixed wait here was a race a loaded machine could lose), then blocks its thread (`usleep`, as a
    /// synchronous library call or a long computation would), then records its run.
    private struct BlockThreadJob: JobHandler {
        struct Payload: JobPayload {
            static let jobType = "test.block_thread"
            let key: String
            let member: String
            let blockMs: Int

            enum CodingKeys: String, CodingKey {
                case key, member
                case blockMs = "block_ms"
            }
        }

        let gate: TestGate

        func run(_ payload: Payload, context: JobContext) async throws {
            await gate.wait()
            usleep(UInt32(payload.blockMs) * 1000)
            if let error = try await DiagStore(redis: context.redis).record(key: payload.key, member: payload.member, attempt: context.attempt) {
                throw JobFailure.retry(error)
            }
        }
    }

    /// Two CPU hogs, this process's handlers blocking every cooperative thread for 12 s (longer than the lease), and
    /// async jobs of 14 s, in a worker with default options; a `hoopoe worker` process with default options watches the
    /// same queue, recovering whatever lease lapses. It takes nothing: every job runs once, at attempt 1.
    @Test func aWorkerWhoseHandlersBlockEveryThreadUnderCPULoadKeepsItsJobs() async throws {
        let h = try EngineHarness()
        let key = "\(h.namespace):busy"
        let threads = ProcessInfo.processInfo.activeProcessorCount
        // The sleeping jobs first: they start (and give their thread back) before the blocking ones take every thread.
        var batch: [(type: String, payload: JSONValue, options: EnqueueOptions)] = (0..<10).map {
            ("diag.record", h.diag(key: key, member: "sleep\($0)", sleepMs: 14_000), EnqueueOptions())
        }
        for i in 0..<threads {
            batch.append(("test.block_thread", .object(["key": .string(key), "member": .string("block\(i)"), "block_ms": .integer(12_000)]), EnqueueOptions()))
        }
        _ = try await h.jobs.enqueueBatch(batch)

        let hogs = try (0..<2).map { _ in try ChildProcess("/bin/sh", ["-c", "while :; do :; done"]) }
        defer {
            for hog in hogs {
                hog.signal(SIGKILL)
                hog.waitBlocking()
            }
        }
        var registry = JobRegistry.diagnostic
        let gate = TestGate()
        defer { gate.open() }  // should the test fail before it opens the gate, the worker's jobs must not wait for ever
        registry.register(BlockThreadJob(gate: gate))
        let (busy, busyTask) = h.startWorker(registry, options: WorkerOptions(queues: QueueSelection(["default"]), concurrency: batch.count))
        #expect(try await h.eventually { try await h.jobs.info(queue: "default").inFlight == batch.count })
        let watcher = try ChildProcess(BuiltProducts.hoopoe, ["worker", "--queues", "default"], environment: [
            "REDIS_URL": try TestRedis.url(), "HOOPOE_NAMESPACE": h.namespace, "LOG_LEVEL": "warning",
        ])
        gate.open()  // every cooperative thread of this process blocks from now for 12 s

        #expect(try await h.eventually(timeout: .seconds(40)) { try await h.recorded(key).count == batch.count }, "\(watcher.output)")
        busy.shutdown()
        try await busyTask.value
        watcher.signal(SIGTERM)
        #expect(await watcher.wait(timeout: .seconds(10)) == 0)
        #expect(!watcher.output.contains("recovered"), "\(watcher.output)")
        #expect(try await h.recorded(key).values.allSatisfy { $0 == 1 }, "every job ran once")
        let attempts = try await h.redis.send("HVALS", key + ":attempt").array?.compactMap(\.int) ?? []
        #expect(attempts.count == batch.count && attempts.allSatisfy { $0 == 1 }, "\(attempts)")
        let info = try await h.jobs.info(queue: "default")
        #expect(info.ready == 0 && info.inFlight == 0 && info.dead == 0, "\(info)")
        #expect(try await h.jobs.counters(queue: "default")["processed"] == batch.count)
    }

    /// A shutdown lets running jobs finish for up to the shutdown timeout, which may be longer than the lease: renewal
    /// goes on while draining, so another worker (recovering every 200 ms) does not take them meanwhile.
    @Test func jobsFinishingDuringShutdownKeepTheirLease() async throws {
        let h = try EngineHarness()
        let key = "\(h.namespace):drain"
        _ = try await h.jobs.enqueueBatch((0..<5).map { (type: "diag.record", payload: h.diag(key: key, member: "m\($0)", sleepMs: 4_000), options: EnqueueOptions()) })
        var options = WorkerOptions.fastTest(concurrency: 5, lease: .seconds(1))
        options.shutdownTimeout = .seconds(10)
        let (draining, drainingTask) = h.startWorker(options: options)
        #expect(try await h.eventually { try await h.jobs.info(queue: "default").inFlight == 5 })
        draining.shutdown()
        let (watcher, watcherTask) = h.startWorker(options: .fastTest(concurrency: 5, lease: .seconds(1)))
        try await drainingTask.value
        #expect(try await h.recorded(key).count == 5)
        watcher.shutdown()
        try await watcherTask.value
        let runs = try await h.recorded(key)
        #expect(runs.values.allSatisfy { $0 == 1 }, "none ran twice: \(runs)")
        let attempts = try await h.redis.send("HVALS", key + ":attempt").array?.compactMap(\.int) ?? []
        #expect(attempts.count == 5 && attempts.allSatisfy { $0 == 1 }, "\(attempts)")
    }

    /// Redis not answering for longer than the lease (`CLIENT PAUSE`: commands wait or time out, time goes on, idle times
    /// grow with nobody able to renew) does not hand a live worker's jobs to another worker: whichever queued command Redis runs
    /// first afterwards, recovery does not count the stall against the owner.
    @Test func aRedisStallLongerThanTheLeaseTakesNoJobs() async throws {
        // A Redis of its own: the pause stops every client of the server, and tests running beside this one must not be.
        let server = try RedisServer()
        let redis = try RedisClient(url: server.url)
        defer { redis.close() }
        let jobs = JobQueue(redis: redis, namespace: "stall")
        let key = "stall:runs"
        _ = try await jobs.enqueueBatch((0..<10).map {
            (type: "diag.record", payload: .object(["key": .string(key), "member": .string("m\($0)"), "sleep_ms": .integer(13_000)]), options: EnqueueOptions())
        })
        let start = { (options: WorkerOptions) in
            let worker = Worker(jobs: jobs, registry: .diagnostic, options: options, logger: EngineHarness.quietLogger)
            return (worker, Task { try await worker.run() })
        }
        let (owner, ownerTask) = start(WorkerOptions(queues: QueueSelection(["default"]), concurrency: 10))
        #expect(try await eventually { try await jobs.info(queue: "default").inFlight == 10 })
        // A second worker, recovering five times a second, so that a round of it waits in Redis through the stall.
        let (watcher, watcherTask) = start(WorkerOptions(queues: QueueSelection(["default"]), concurrency: 10, recoveryInterval: .milliseconds(200)))
        try await Task.sleep(for: .milliseconds(500))
        _ = try await redis.send("CLIENT", "PAUSE", "11000", "ALL")
        // Every command times out meanwhile (the client's 5 s), the test's own too: it waits the pause out first.
        try await Task.sleep(for: .milliseconds(11_200))
        let recorded = { try await redis.send("HLEN", key + ":count").int ?? 0 }
        #expect(try await eventually(timeout: .seconds(25)) { try await recorded() == 10 })
        owner.shutdown()
        watcher.shutdown()
        try await ownerTask.value
        try await watcherTask.value
        let runs = try await redis.send("HVALS", key + ":count").array?.compactMap(\.int) ?? []
        #expect(runs.count == 10 && runs.allSatisfy { $0 == 1 }, "none ran twice: \(runs)")
        let attempts = try await redis.send("HVALS", key + ":attempt").array?.compactMap(\.int) ?? []
        #expect(attempts.count == 10 && attempts.allSatisfy { $0 == 1 }, "\(attempts)")
    }

    /// Renewal renews this consumer's deliveries, skips settled ones, and does not claim back one another worker took
    /// (its lease had lapsed): it names it, so the worker stops renewing it.
    @Test func renewalRenewsOnlyWhatIsStillThisConsumers() async throws {
        let h = try EngineHarness()
        let stream = h.jobs.keys("default").stream
        try await h.jobs.store.createGroups(queues: ["default"])
        var ids: [String] = []
        for i in 0..<3 { ids.append(try #require(try await h.redis.send("XADD", stream, "*", "job", "{\"n\":\(i)}").string)) }
        _ = try await h.redis.send("XREADGROUP", "GROUP", QueueKeys.group, "a", "COUNT", "3", "STREAMS", stream, ">")
        _ = try await h.redis.send("XCLAIM", stream, QueueKeys.group, "b", "0", ids[1], "JUSTID")
        _ = try await h.redis.send("XACK", stream, QueueKeys.group, ids[2])
        try await Task.sleep(for: .seconds(1))  // idle a second, so a renewed one stands out by far

        let renewed = try await h.jobs.store.renewLeases(queue: "default", ids: ids, consumer: "a")
        #expect(renewed.taken == [ids[1]])
        #expect(renewed.gone == [ids[2]], "settled: named, so a copy waiting in the buffer is withdrawn")
        let pending = try await h.redis.send("XPENDING", stream, QueueKeys.group, "-", "+", "10").array ?? []
        let byID = Dictionary(uniqueKeysWithValues: pending.compactMap { entry -> (String, (owner: String, idle: Int, deliveries: Int))? in
            guard let parts = entry.array, let id = parts[0].string, let owner = parts[1].string, let idle = parts[2].int, let count = parts[3].int else { return nil }
            return (id, (owner, idle, count))
        })
        #expect(byID.count == 2)
        #expect(byID[ids[0]]?.owner == "a" && (byID[ids[0]]?.idle ?? .max) < 500, "renewed: idle time reset")
        #expect(byID[ids[0]]?.deliveries == 1, "a renewal is not a delivery")
        #expect(byID[ids[1]]?.owner == "b" && (byID[ids[1]]?.idle ?? 0) >= 950, "not claimed back, not renewed")
    }
}

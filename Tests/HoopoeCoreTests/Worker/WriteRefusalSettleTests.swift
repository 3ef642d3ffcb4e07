import Foundation
import HoopoeJSON
import Redis
import Synchronization
import TestSupport
import Testing

@testable import HoopoeCore

/// A settle Redis refuses for want of writes (`OOM` at `maxmemory`, `NOREPLICAS` under `min-replicas-to-write`) ran
/// nothing (Redis raises these before a script's first write), and is sent again once Redis takes writes, the job's
/// lease held (decision 0098, amended in session 61). Before, such a retry, burial, acknowledgement or hand-back gave up
/// at once and left its job to the lease: it came back as a lost worker's delivery and ran again, without its backoff,
/// and a `max_attempts: 1` job that never started was buried as lost. While the settles are refused the fetch pauses
/// (``WriteRefusals``): under `maxmemory` Redis still serves `XREADGROUP`, and the worker took jobs it could not settle.
///
/// Each test has its own `redis-server` (a refusal is server-wide). A suite of the heavy phase (`HEAVY_SUITES`): its
/// refusal windows and leases are timing.
@Suite(.serialized) struct WriteRefusalSettleTests {
    /// How Redis refuses writes in a test.
    enum Refusal: String, CustomStringConvertible, CaseIterable {
        /// `CONFIG SET maxmemory 1`: every `denyoom` command is refused (`XREADGROUP`, `XCLAIM` and `XACK` are not).
        case oom
        /// `CONFIG SET min-replicas-to-write 1` with no replica: every write is refused, the fetch's too.
        case noReplicas

        var description: String { rawValue }

        func start(on redis: RedisClient) async throws {
            switch self {
            case .oom:
                try await redis.send("CONFIG", "SET", "maxmemory-policy", "noeviction")
                try await redis.send("CONFIG", "SET", "maxmemory", "1")
            case .noReplicas:
                try await redis.send("CONFIG", "SET", "min-replicas-to-write", "1")
            }
        }

        func end(on redis: RedisClient) async throws {
            switch self {
            case .oom: try await redis.send("CONFIG", "SET", "maxmemory", "0")
            case .noReplicas: try await redis.send("CONFIG", "SET", "min-replicas-to-write", "0")
            }
        }
    }

    /// Succeeds once its gate opens, counting its runs.
    struct GatedOKJob: JobHandler {
        struct Payload: Codable, Sendable {}
        static let type = "test.gated-ok"
        let gate: TestGate
        let runs: RunCounter
        func run(_ payload: Payload, context: JobContext) async throws {
            runs.add()
            await gate.wait()
        }
    }

    /// Counts its runs, touching no Redis: a job that runs whatever Redis refuses.
    struct CountedJob: JobHandler {
        struct Payload: Codable, Sendable {}
        static let type = "test.counted"
        let runs: RunCounter
        func run(_ payload: Payload, context: JobContext) async throws { runs.add() }
    }

    /// A job failing (a retry in ten minutes) while Redis refuses writes for 2 s: its retry is refused, sent again once
    /// Redis takes writes, and the job runs once, scheduled with its error and backoff. With the lease given up at the
    /// refusal (before), the worker's recovery took the job back after its lease and ran it a second time.
    @Test(arguments: Refusal.allCases)
    func aRefusedRetryIsSentAgainItsLeaseHeld(_ refusal: Refusal) async throws {
        let server = try RedisServer()
        let redis = try RedisClient(url: server.url)
        defer { redis.close() }
        let jobs = JobQueue(redis: redis, namespace: TestRedis.uniquePrefix("refused-retry"))
        let gate = TestGate()
        defer { gate.open() }
        let runs = RunCounter()
        var registry = JobRegistry()
        registry.register(SettleOutageTests.FailingGatedJob(gate: gate, runs: runs))
        let id = try #require(
            try await jobs.enqueue(type: SettleOutageTests.FailingGatedJob.type, payload: ["permanent": .bool(false)], options: EnqueueOptions(maxAttempts: 3))
                .createdID)
        // A 5 s lease: `NOREPLICAS` refuses the renewals too for the 2 s, and a held lease must outlast that.
        let worker = Worker(jobs: jobs, registry: registry, options: .fastTest(concurrency: 1, lease: .seconds(5)), logger: EngineHarness.quietLogger)
        let run = Task { try await worker.run() }
        #expect(try await TestSupport.eventually { runs.value == 1 })
        try await refusal.start(on: redis)
        gate.open()  // the job fails while Redis refuses writes: its retry is refused
        try await Task.sleep(for: .seconds(2))
        try await refusal.end(on: redis)
        #expect(try await TestSupport.eventually { try await jobs.info(queue: "default").inFlight == 0 }, "settled once Redis takes writes")
        try await Task.sleep(for: .seconds(6))  // past the lease: a released one would have been recovered and run again
        worker.shutdown()
        try await run.value
        #expect(runs.value == 1, "the job ran \(runs.value) times")
        try await SettleOutageTests.expectScheduledRetry(jobs, id: id)
    }

    /// A job that finished while Redis refused every write (`NOREPLICAS`; under `maxmemory` the acknowledge script's
    /// first write, `XACK`, is taken): its acknowledgement is sent again once Redis takes writes, and the finished job
    /// does not run again after its lease.
    @Test func aRefusedAcknowledgementIsSentAgain() async throws {
        let server = try RedisServer()
        let redis = try RedisClient(url: server.url)
        defer { redis.close() }
        let jobs = JobQueue(redis: redis, namespace: TestRedis.uniquePrefix("refused-ack"))
        let gate = TestGate()
        defer { gate.open() }
        let runs = RunCounter()
        var registry = JobRegistry()
        registry.register(GatedOKJob(gate: gate, runs: runs))
        try await jobs.enqueue(type: GatedOKJob.type, payload: [:])
        let worker = Worker(jobs: jobs, registry: registry, options: .fastTest(concurrency: 1, lease: .seconds(5)), logger: EngineHarness.quietLogger)
        let run = Task { try await worker.run() }
        #expect(try await TestSupport.eventually { runs.value == 1 })
        try await Refusal.noReplicas.start(on: redis)
        gate.open()
        try await Task.sleep(for: .seconds(2))
        try await Refusal.noReplicas.end(on: redis)
        #expect(try await TestSupport.eventually { try await jobs.info(queue: "default").inFlight == 0 }, "acknowledged once Redis takes writes")
        try await Task.sleep(for: .seconds(6))  // past the lease
        worker.shutdown()
        try await run.value
        #expect(runs.value == 1, "the finished job ran \(runs.value) times")
        #expect(try await jobs.counters(queue: "default")["processed"] == 1)
    }

    /// A hand-back (shutdown, pause) refused by `maxmemory`: tried again, the leases held, and the jobs are on their
    /// queue unspent once Redis takes writes. Before, it gave up at once, and the jobs came back after their lease as
    /// second deliveries (a `max_attempts: 1` job buried as lost).
    @Test func aRefusedHandBackIsSentAgain() async throws {
        let server = try RedisServer()
        let redis = try RedisClient(url: server.url)
        defer { redis.close() }
        let jobs = JobQueue(redis: redis, namespace: TestRedis.uniquePrefix("refused-handback"))
        let stream = jobs.keys("default").stream
        try await jobs.store.createGroups(queues: ["default"])
        for n in 0..<2 {
            try await jobs.enqueue(type: "diag.record", payload: .object(["key": "k", "member": .string("p\(n)")]), options: EnqueueOptions(maxAttempts: 1))
        }
        let fetched = try await HandBackOutageTests.fetch(2, from: stream, on: redis)
        let leases = Leases()
        leases.hold(fetched)
        let refusals = WriteRefusals()
        let handBack = HandBack(
            store: jobs.store, leases: leases, logger: EngineHarness.quietLogger, consumer: "me", unsentRetry: .seconds(20), writeRefusals: refusals)
        try await Refusal.oom.start(on: redis)
        let handing = Task { await handBack(fetched) }
        try await Task.sleep(for: .seconds(1.5))
        #expect(leases.snapshot().flatMap(\.entryIDs).count == 2, "the leases are held while it is tried again")
        #expect(refusals.current(queue: "default") != nil, "the refusal is told to the fetch")
        try await Refusal.oom.end(on: redis)
        #expect(await handing.value, "handed back")
        #expect(refusals.current(queue: "default") == nil, "the fetch is told it landed")
        #expect(try await redis.send("XPENDING", stream, QueueKeys.group).array?.first?.int == 0, "the old deliveries are gone")
        #expect(try await redis.send("XLEN", stream).int == 2, "both jobs are on their queue again")
    }

    /// While Redis refuses a settle for want of writes the fetch pauses: under `maxmemory` `XREADGROUP` is still
    /// served, and the worker took and ran every waiting job it could not settle. Here both runners are busy when
    /// `maxmemory` starts refusing, one job is buffered and three wait in the stream; one runner's job fails (its retry is
    /// refused, and tried again), the other's finishes: during the refusal that runner runs the buffered job only.
    @Test func theFetchPausesWhileSettlesAreRefused() async throws {
        let server = try RedisServer()
        let redis = try RedisClient(url: server.url)
        defer { redis.close() }
        let jobs = JobQueue(redis: redis, namespace: TestRedis.uniquePrefix("refused-fetch"))
        let failGate = TestGate()
        let okGate = TestGate()
        defer {
            failGate.open()
            okGate.open()
        }
        let failing = RunCounter()
        let finishing = RunCounter()
        let counted = RunCounter()
        var registry = JobRegistry()
        registry.register(SettleOutageTests.FailingGatedJob(gate: failGate, runs: failing))
        registry.register(GatedOKJob(gate: okGate, runs: finishing))
        registry.register(CountedJob(runs: counted))
        var options = WorkerOptions.fastTest(concurrency: 2, lease: .seconds(10))
        options.prefetch = 1
        options.maxPrefetch = 1
        let worker = Worker(jobs: jobs, registry: registry, options: options, logger: EngineHarness.quietLogger)
        try await jobs.enqueue(type: SettleOutageTests.FailingGatedJob.type, payload: ["permanent": .bool(false)], options: EnqueueOptions(maxAttempts: 3))
        try await jobs.enqueue(type: GatedOKJob.type, payload: [:])
        let run = Task { try await worker.run() }
        #expect(try await TestSupport.eventually { failing.value == 1 && finishing.value == 1 }, "both runners busy")
        for _ in 0..<4 { try await jobs.enqueue(type: CountedJob.type, payload: [:]) }
        let stream = jobs.keys("default").stream
        #expect(try await TestSupport.eventually { try await redis.send("XPENDING", stream, QueueKeys.group).array?.first?.int == 3 }, "one job buffered")

        try await Refusal.oom.start(on: redis)
        failGate.open()  // its retry is refused, and tried again
        #expect(try await TestSupport.eventually { worker.writeRefusals.current(queue: "default") != nil }, "the refusal is seen")
        okGate.open()  // that runner is free: it runs the buffered job
        try await Task.sleep(for: .seconds(3))
        let duringRefusal = counted.value
        try await Refusal.oom.end(on: redis)
        #expect(duringRefusal <= 1, "\(duringRefusal) jobs ran while settles were refused: only the buffered one may")
        #expect(try await TestSupport.eventually { counted.value == 4 }, "the others run once Redis takes writes")
        worker.shutdown()
        try await run.value
        #expect(failing.value == 1, "the failed job ran \(failing.value) times")
    }
}

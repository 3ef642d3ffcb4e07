import Foundation
import HoopoeJSON
import Redis
import Synchronization
import TestSupport
import Testing

@testable import HoopoeCore

/// An acknowledgement that cannot be sent because Redis is down longer than the client's reconnect window (3 s): it is
/// tried again, the job's lease still held, and lands once Redis is back, so the finished job does not run again. Before,
/// the failed flight released the lease, and the job ran a second time after it (a job on its last attempt that had
/// succeeded was buried as lost). A private `redis-server` with an append-only file, stopped and started on its port.
/// A suite of the heavy phase (`HEAVY_SUITES`): its 2 s lease is timing.
@Suite(.serialized) struct AcknowledgerOutageTests {
    /// Counts its runs in this process (Redis is down while it finishes), then waits at `gate`.
    struct CountedGatedJob: JobHandler {
        struct Payload: Codable, Sendable {}
        static let type = "test.counted-gated"
        let gate: TestGate
        let runs: RunCounter
        func run(_ payload: Payload, context: JobContext) async throws {
            runs.add()
            await gate.wait()
        }
    }

    /// Two jobs enqueued on `default` and delivered to the consumer `me`; their entry ids.
    private static func twoDeliveredToMe(_ jobs: JobQueue, _ redis: RedisClient) async throws -> [String] {
        let stream = jobs.keys("default").stream
        try await jobs.store.createGroups(queues: ["default"])
        for n in 0..<2 { try await jobs.enqueue(type: "diag.record", payload: .object(["n": .integer(Int64(n))])) }
        let read = try await redis.send("XREADGROUP", "GROUP", QueueKeys.group, "me", "COUNT", "2", "STREAMS", stream, ">")
        let ids = (read.array?.first?.array?.last?.array ?? []).compactMap { $0.array?.first?.string }
        try #require(ids.count == 2)
        return ids
    }

    @Test func anAcknowledgementSentWhenRedisIsBackRunsTheJobOnce() async throws {
        let server = try RedisServer(arguments: ["--appendonly", "yes"])
        let redis = try RedisClient(url: server.url)
        defer { redis.close() }
        let jobs = JobQueue(redis: redis, namespace: TestRedis.uniquePrefix("ack-outage"))
        let gate = TestGate()
        defer { gate.open() }
        let runs = RunCounter()
        var registry = JobRegistry()
        registry.register(CountedGatedJob(gate: gate, runs: runs))
        let id = try #require(try await jobs.enqueue(type: CountedGatedJob.type, payload: .object([:]), options: EnqueueOptions(maxAttempts: 1)).createdID)
        let worker = Worker(jobs: jobs, registry: registry, options: .fastTest(concurrency: 1, lease: .seconds(2)), logger: EngineHarness.quietLogger)
        let run = Task { try await worker.run() }
        #expect(try await TestSupport.eventually { runs.value == 1 })

        server.stop()  // SIGTERM: the append-only file has the delivery
        gate.open()  // the job finishes while Redis is down: its acknowledgement finds no server past the 3 s window
        try await Task.sleep(for: .seconds(4.5))
        try server.start()
        #expect(try await TestSupport.eventually { try await jobs.info(queue: "default").inFlight == 0 }, "acknowledged once Redis is back")
        try await Task.sleep(for: .seconds(3))  // past the lease: a released one would have been recovered and run again
        #expect(runs.value == 1, "the job ran \(runs.value) times")
        #expect(try await jobs.info(queue: "default").dead == 0)
        #expect(try await jobs.find(id: id, queue: "default") == nil)
        worker.shutdown()
        try await run.value
    }

    /// A worker cut off from Redis while the others were not: its leases lapsed and another worker took an entry it had
    /// finished (here a `ghost` consumer holds it before the outage begins). The acknowledgement sent again once Redis
    /// answers leaves that entry to its new holder: acknowledged, it would be taken from a worker running it.
    @Test func anEntryAnotherWorkerTookIsLeftToIt() async throws {
        let server = try RedisServer(arguments: ["--appendonly", "yes"])
        let redis = try RedisClient(url: server.url)
        defer { redis.close() }
        let jobs = JobQueue(redis: redis, namespace: TestRedis.uniquePrefix("ack-taken"))
        let stream = jobs.keys("default").stream
        let ids = try await Self.twoDeliveredToMe(jobs, redis)
        _ = try await redis.send("XCLAIM", stream, QueueKeys.group, "ghost", "0", ids[1])
        let acknowledger = Acknowledger(jobs: jobs, logger: EngineHarness.quietLogger, consumer: "me") { _ in }
        server.stop()
        for (n, id) in ids.enumerated() {
            acknowledger.add(Acknowledgement(queue: "default", entryID: id, type: "diag.record", jobID: "j\(n)", uniqueKey: nil, counter: "processed"))
        }
        try await Task.sleep(for: .seconds(4))  // past the 3 s reconnect window: the first call failed unsent
        try server.start()
        await acknowledger.drain()
        let pending = try await redis.send("XPENDING", stream, QueueKeys.group, "-", "+", "10").array ?? []
        #expect(pending.compactMap { $0.array?[1].string } == ["ghost"], "only the ghost's entry is pending: \(pending)")
        #expect(try await redis.send("XLEN", stream).int == 1, "this worker's own entry acknowledged and gone, the other kept")
    }

    /// An outage longer than the retry (its calls gave up), then nothing acknowledged for a while, then a second, short
    /// outage: the second one's calls are tried again and land when Redis is back. Before, the first outage's deadline
    /// stayed (only a call that landed cleared it), and every call of the second gave up at its first failure.
    @Test func aLaterOutageIsRetriedAfterAnEarlierOneGaveUp() async throws {
        let server = try RedisServer(arguments: ["--appendonly", "yes"])
        var configuration = try RedisConfiguration(url: server.url)
        configuration.reconnectWindow = .milliseconds(300)
        configuration.connectTimeout = .milliseconds(300)
        let redis = RedisClient(configuration: configuration)
        defer { redis.close() }
        let jobs = JobQueue(redis: redis, namespace: TestRedis.uniquePrefix("ack-outages"))
        let stream = jobs.keys("default").stream
        let ids = try await Self.twoDeliveredToMe(jobs, redis)
        let acknowledger = Acknowledger(jobs: jobs, logger: EngineHarness.quietLogger, consumer: "me", unsentRetry: .seconds(5)) { _ in }
        func ack(_ n: Int) {
            acknowledger.add(Acknowledgement(queue: "default", entryID: ids[n], type: "diag.record", jobID: "j\(n)", uniqueKey: nil, counter: "processed"))
        }
        server.stop()
        ack(0)
        await acknowledger.drain()  // gave up after its 5 s
        try server.start()
        try await Task.sleep(for: .seconds(4))  // nothing acknowledged meanwhile: past the outage gap (3 s)
        server.stop()
        ack(1)
        try await Task.sleep(for: .seconds(1))
        try server.start()
        await acknowledger.drain()
        let pending = (try await redis.send("XPENDING", stream, QueueKeys.group, "-", "+", "10").array ?? []).compactMap { $0.array?.first?.string }
        #expect(pending == [ids[0]], "the second outage's acknowledgement landed; the first's gave up: \(pending)")
    }
}

/// A counter shared by reference between a handler's copies and the test.
final class RunCounter: Sendable {
    private let count = Mutex<Int>(0)
    init() {}
    func add() { count.withLock { $0 += 1 } }
    var value: Int { count.withLock { $0 } }
}

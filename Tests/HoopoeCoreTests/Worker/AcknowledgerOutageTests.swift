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
}

/// A counter shared by reference between a handler's copies and the test.
final class RunCounter: Sendable {
    private let count = Mutex<Int>(0)
    init() {}
    func add() { count.withLock { $0 += 1 } }
    var value: Int { count.withLock { $0 } }
}

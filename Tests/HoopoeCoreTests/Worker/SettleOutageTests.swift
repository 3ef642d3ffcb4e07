import Foundation
import HoopoeJSON
import Redis
import TestSupport
import Testing

@testable import HoopoeCore

/// A retry or a burial that cannot be sent because Redis is down longer than the client's reconnect window (3 s) is
/// sent again once Redis is back, the job's lease held (``UnitOfWork``), as acknowledgements are: the job is retried or
/// dead with its handler's error, and runs once. Before, the lease was released at the first failure, and the job came
/// back after it as a lost worker's delivery: it ran again without its backoff, and a second such outage buried it as a
/// poison pill, its error gone. A private `redis-server` with an append-only file, stopped and started on its port.
/// A suite of the heavy phase (`HEAVY_SUITES`): its 2 s lease is timing.
@Suite(.serialized) struct SettleOutageTests {
    /// Counts its runs, waits at `gate` (Redis is stopped meanwhile), then fails: for a retry in ten minutes, or for good.
    struct FailingGatedJob: JobHandler {
        struct Payload: Codable, Sendable { var permanent: Bool }
        static let type = "test.failing-gated"
        let gate: TestGate
        let runs: RunCounter
        var retryPolicy: RetryPolicy { .fixed(600) }
        func run(_ payload: Payload, context: JobContext) async throws {
            runs.add()
            await gate.wait()
            throw payload.permanent ? JobFailure.permanent("refused for good") : JobFailure.retry("provider away")
        }
    }

    /// Expects job `id` of the default queue scheduled to run again after ``FailingGatedJob``'s ten-minute backoff,
    /// its first attempt counted and `error` kept: a retry that landed once, however long its settle was held up.
    static func expectScheduledRetry(
        _ jobs: JobQueue, id: String, error: String = "provider away", sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        let found = try #require(try await jobs.find(id: id, queue: "default"), "the job is scheduled to run again", sourceLocation: sourceLocation)
        #expect(found.envelope.attempt == 1 && found.envelope.lastError == error, "\(found.envelope)", sourceLocation: sourceLocation)
        if case .scheduled(let at) = found.state {
            #expect(at > Date().timeIntervalSince1970 + 500, "due after its ten-minute backoff", sourceLocation: sourceLocation)
        } else {
            Issue.record("not scheduled: \(found.state)", sourceLocation: sourceLocation)
        }
    }

    private func failThroughAnOutage(permanent: Bool) async throws -> (jobs: JobQueue, id: String, runs: Int, server: RedisServer, redis: RedisClient) {
        let server = try RedisServer(arguments: ["--appendonly", "yes"])
        let redis = try RedisClient(url: server.url)
        let jobs = JobQueue(redis: redis, namespace: TestRedis.uniquePrefix("settle-outage"))
        let gate = TestGate()
        defer { gate.open() }
        let runs = RunCounter()
        var registry = JobRegistry()
        registry.register(FailingGatedJob(gate: gate, runs: runs))
        let id = try #require(try await jobs.enqueue(type: FailingGatedJob.type, payload: ["permanent": .bool(permanent)], options: EnqueueOptions(maxAttempts: 3)).createdID)
        let worker = Worker(jobs: jobs, registry: registry, options: .fastTest(concurrency: 1, lease: .seconds(2)), logger: EngineHarness.quietLogger)
        let run = Task { try await worker.run() }
        #expect(try await TestSupport.eventually { runs.value == 1 })
        server.stop()  // SIGTERM: the append-only file has the delivery
        gate.open()  // the job fails while Redis is down: its retry or burial finds no server past the 3 s window
        try await Task.sleep(for: .seconds(4.5))
        try server.start()
        #expect(try await TestSupport.eventually { try await jobs.info(queue: "default").inFlight == 0 }, "settled once Redis is back")
        try await Task.sleep(for: .seconds(3))  // past the lease: a released one would have been recovered and run again
        worker.shutdown()
        try await run.value
        return (jobs, id, runs.value, server, redis)
    }

    @Test func aRetrySentWhenRedisIsBackKeepsItsErrorAndBackoff() async throws {
        let (jobs, id, runs, server, redis) = try await failThroughAnOutage(permanent: false)
        defer { redis.close(); withExtendedLifetime(server) {} }
        #expect(runs == 1, "the job ran \(runs) times")
        try await Self.expectScheduledRetry(jobs, id: id)
        let marks = try await redis.send("HLEN", jobs.keys("default").recoveredRuns).int ?? -1
        #expect(marks == 0, "no run of it was taken for a lost worker's")
    }

    @Test func aBurialSentWhenRedisIsBackKeepsItsReason() async throws {
        let (jobs, id, runs, server, redis) = try await failThroughAnOutage(permanent: true)
        defer { redis.close(); withExtendedLifetime(server) {} }
        #expect(runs == 1, "the job ran \(runs) times")
        let found = try #require(try await jobs.find(id: id, queue: "default"), "the job is dead")
        #expect(found.state == .dead, "\(found.state)")
        #expect(found.envelope.deadReason == "failed permanently: refused for good", "\(found.envelope)")
    }
}

import Foundation
import HoopoeJSON
import Redis
import TestSupport
import Testing

@testable import HoopoeCore

/// One queue's stream key holding another type (`SET hoopoe:{q2}:stream oops`) stops that queue only, named in the log
/// with its key, and the queue is fetched again once the key is mended. A worker fetches all its queues in one
/// `XREADGROUP`, which Redis refuses whole (`WRONGTYPE`, naming no key): the other queues' jobs stopped, the log said
/// only "XREADGROUP: WRONGTYPE", and a worker started then exited 2 ("XGROUP CREATE: WRONGTYPE"), naming no key.
@Suite struct WrongTypedStreamTests {
    private func options() -> WorkerOptions {
        WorkerOptions.fastTest(queues: ["q1", "q2"], concurrency: 2)
    }

    @Test func aWorkerStartsAndServesTheOtherQueues() async throws {
        let h = try EngineHarness()
        let wrongKey = h.jobs.keys("q2").stream
        try await h.redis.send("SET", wrongKey, "oops")
        let log = CapturedLog()
        let worker = Worker(jobs: h.jobs, registry: .diagnostic, options: options(), logger: log.logger)
        let run = Task { try await worker.run() }
        let key = TestRedis.uniquePrefix()
        try await h.jobs.enqueue(type: "diag.record", payload: h.diag(key: key, member: "a"), options: EnqueueOptions(queue: "q1"))
        #expect(try await h.eventually { try await h.recorded(key)["a"] == 1 }, "q1's job ran: \(log.all)")
        #expect(log.all.contains { $0.hasPrefix("error") && $0.contains("queue q2 is left out of fetching") && $0.contains(wrongKey) && $0.contains("a string") }, "\(log.all)")
        worker.shutdown()
        try await run.value
    }

    @Test func aKeyOfAnotherTypeWhileRunningStopsItsQueueOnlyUntilMended() async throws {
        let h = try EngineHarness()
        let log = CapturedLog()
        let worker = Worker(jobs: h.jobs, registry: .diagnostic, options: options(), logger: log.logger)
        let run = Task { try await worker.run() }
        defer { worker.shutdown() }
        let key = TestRedis.uniquePrefix()
        try await h.jobs.enqueue(type: "diag.record", payload: h.diag(key: key, member: "before"), options: EnqueueOptions(queue: "q2"))
        #expect(try await h.eventually { try await h.recorded(key)["before"] == 1 })

        let wrongKey = h.jobs.keys("q2").stream
        try await h.redis.send("DEL", wrongKey)
        try await h.redis.send("SET", wrongKey, "oops")
        for n in 0..<3 {
            try await h.jobs.enqueue(type: "diag.record", payload: h.diag(key: key, member: "q1-\(n)"), options: EnqueueOptions(queue: "q1"))
        }
        #expect(
            try await h.eventually {
                let recorded = try await h.recorded(key)
                return (0..<3).allSatisfy { recorded["q1-\($0)"] == 1 }
            }, "q1's jobs ran: \(log.all)")
        #expect(log.all.contains { $0.contains("queue q2 is left out of fetching") && $0.contains(wrongKey) }, "\(log.all)")
        // (The DEL wakes the blocked read with `UNBLOCKED`, a fetch failure of its own; the key's type is not one.)
        #expect(!log.all.contains { $0.contains("fetch failed") && $0.contains("WRONGTYPE") }, "\(log.all)")

        try await h.redis.send("DEL", wrongKey)
        try await h.jobs.enqueue(type: "diag.record", payload: h.diag(key: key, member: "after"), options: EnqueueOptions(queue: "q2"))
        #expect(try await h.eventually { try await h.recorded(key)["after"] == 1 }, "q2 is fetched again once its key is gone: \(log.all)")
        #expect(log.all.contains { $0.contains("queue q2's stream key is a stream again or gone") }, "\(log.all)")
        worker.shutdown()
        try await run.value
    }

    /// `info(queue:)` names a wrong-typed key and its queue; the health check fails that queue's finding only.
    @Test func theHealthCheckFailsOnlyThatQueue() async throws {
        let h = try EngineHarness()
        try await h.jobs.enqueue(type: "diag.record", payload: h.diag(key: "k", member: "m"), options: EnqueueOptions(queue: "q1"))
        try await h.jobs.enqueue(type: "diag.record", payload: h.diag(key: "k", member: "m"), options: EnqueueOptions(queue: "q2"))
        let wrongKey = h.jobs.keys("q2").stream
        try await h.redis.send("DEL", wrongKey)
        try await h.redis.send("SET", wrongKey, "oops")

        let error = await #expect(throws: RedisError.self) { try await h.jobs.info(queue: "q2") }
        #expect(error?.message.contains("queue q2: key \(wrongKey)") == true, "\(String(describing: error))")
        #expect(error?.refusesQueueRead == true)

        let report = await HealthCheck(jobs: h.jobs).run()
        let byName = Dictionary(report.findings.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        #expect(byName["queues"] == nil, "no one finding for every queue: \(report.findings)")
        #expect(byName["queue:q2"]?.status == .fail && byName["queue:q2"]?.message.contains(wrongKey) == true, "\(report.findings)")
        #expect(byName["queue:q1"] != nil && byName["queue:q1"]?.status != .fail, "q1 is judged as usual: \(report.findings)")
        #expect(byName["dead_jobs"] != nil, "the readable queues' dead jobs are read: \(report.findings)")
    }
}

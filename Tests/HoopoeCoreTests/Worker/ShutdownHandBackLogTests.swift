import Foundation
import HoopoeJSON
import Redis
import TestSupport
import Testing

@testable import HoopoeCore

/// A shutdown says what became of its prefetched jobs once their hand-back is done. It said "shutting down: 3 running,
/// 3 prefetched handed back" at the signal, before the hand-back ran, and the line stood when the hand-back then
/// failed and the jobs waited out their lease (a review saw it under `maxmemory`). Its own `redis-server` (`maxmemory`
/// is server-wide).
@Suite(.serialized) struct ShutdownHandBackLogTests {
    /// One job running (held at a gate) and two prefetched, then a shutdown; with `refused`, `maxmemory` refuses the
    /// hand-back for the whole of its (1 s) retry. Returns the worker's log lines.
    private func shutDown(refused: Bool) async throws -> [String] {
        let server = try RedisServer()
        let redis = try RedisClient(url: server.url)
        defer { redis.close() }
        let jobs = JobQueue(redis: redis, namespace: TestRedis.uniquePrefix("shutdown-log"))
        let gate = TestGate()
        defer { gate.open() }
        let log = CapturedLog()
        var options = WorkerOptions.fastTest(concurrency: 1)
        options.prefetch = 2
        options.maxPrefetch = 2
        options.unsentAcknowledgementRetry = .seconds(1)
        let worker = Worker(jobs: jobs, registry: .diagnostic(gatedBy: gate), options: options, logger: log.logger)
        try await jobs.enqueue(type: GatedRecordJob.type, payload: ["key": "k", "member": "running"])
        for n in 0..<2 { try await jobs.enqueue(type: "diag.record", payload: ["key": "k", "member": .string("p\(n)")]) }
        let run = Task { try await worker.run() }
        #expect(try await TestSupport.eventually { gate.waiting == 1 }, "the first job runs")
        let stream = jobs.keys("default").stream
        #expect(try await TestSupport.eventually { try await redis.send("XPENDING", stream, QueueKeys.group).array?.first?.int == 3 }, "two prefetched")
        if refused {
            try await redis.send("CONFIG", "SET", "maxmemory-policy", "noeviction")
            try await redis.send("CONFIG", "SET", "maxmemory", "1")
        }
        worker.shutdown()
        let said = refused ? "not all handed back" : "handed back 2 prefetched"
        #expect(try await TestSupport.eventually { log.all.contains { $0.contains(said) } }, "\(log.all)")
        if refused { try await redis.send("CONFIG", "SET", "maxmemory", "0") }
        gate.open()
        try await run.value
        return log.all
    }

    @Test func aFailedHandBackIsNotSaidToHaveHandedBack() async throws {
        let lines = try await shutDown(refused: true)
        #expect(!lines.contains { $0.contains("prefetched handed back") }, "\(lines)")
        let signal = lines.firstIndex { $0.contains("shutting down: 1 running, handing back 2 prefetched") }
        let outcome = lines.firstIndex { $0.hasPrefix("warning") && $0.contains("2 prefetched jobs were not all handed back") }
        #expect(signal != nil && outcome != nil && signal! < outcome!, "\(lines)")
    }

    @Test func aHandBackIsSaidWhenDone() async throws {
        let lines = try await shutDown(refused: false)
        let signal = lines.firstIndex { $0.contains("shutting down: 1 running, handing back 2 prefetched") }
        let outcome = lines.firstIndex { $0.hasPrefix("info") && $0.contains("handed back 2 prefetched jobs to their queues") }
        #expect(signal != nil && outcome != nil && signal! < outcome!, "\(lines)")
    }
}

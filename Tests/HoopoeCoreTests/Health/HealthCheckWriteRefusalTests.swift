import Foundation
import HoopoeCore
import HoopoeJSON
import Redis
import TestSupport
import Testing

/// A Redis that answers `PING` but refuses writes (`OOM` at `maxmemory` under `noeviction`, `NOREPLICAS` under
/// `min-replicas-to-write`): the deployment check said `redis` ok and failed `dead_jobs` with the bare refusal of its
/// baseline write, while every enqueue was refused. The `redis` check fails and says so; `dead_jobs` reports what it
/// read and that it could not record its baseline.
@Suite(.serialized) struct HealthCheckWriteRefusalTests {
    @Test(arguments: [("maxmemory", "1", "0", "OOM"), ("min-replicas-to-write", "1", "0", "NOREPLICAS")])
    func aRedisRefusingWritesFailsTheRedisCheck(setting: String, refusing: String, restore: String, reply: String) async throws {
        let server = try RedisServer()
        let redis = try RedisClient(url: server.url)
        defer { redis.close() }
        let jobs = JobQueue(redis: redis, namespace: "health")
        try await Heartbeat(kind: "worker", id: "w", jobs: jobs) { ["queues": "default"] }.beat()
        try await jobs.enqueue(type: "diag.record", payload: ["key": "k", "member": "m"])  // a queue to read
        let check = HealthCheck(jobs: jobs)
        let before = await check.run()
        #expect(before.finding("redis")?.status == .ok && before.finding("redis")?.numbers["refuses_writes"] == 0, "\(before.findings)")
        #expect(before.finding("dead_jobs")?.status == .ok)

        try await redis.send("CONFIG", "SET", setting, refusing)
        let report = await check.run()
        try await redis.send("CONFIG", "SET", setting, restore)
        let finding = try #require(report.finding("redis"))
        #expect(finding.status == .fail, "\(report.findings)")
        #expect(finding.message.hasPrefix("Redis refuses writes: \(reply)") && finding.message.contains("every enqueue is refused"), "\(finding.message)")
        #expect(finding.numbers["refuses_writes"] == 1)
        let dead = try #require(report.finding("dead_jobs"), "\(report.findings)")
        #expect(dead.status == .ok, "not its failure: \(dead.message)")
        #expect(dead.message.contains("could not record this run's baseline: Redis refuses writes (see `redis`)"), "\(dead.message)")
        #expect(report.verdict == .unhealthy)

        let after = await check.run()
        #expect(after.finding("redis")?.status == .ok, "writes taken again: \(after.findings)")
        #expect(after.finding("dead_jobs")?.message.contains("could not record") == false)
    }
}

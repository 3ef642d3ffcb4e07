import Foundation
import HoopoeCore
import HoopoeJSON
import Redis
import TestSupport
import Testing

/// The engine's own errors in Sentinel mode name the primary they came from: the configured endpoint there is the first
/// sentinel, and an enqueue refused for the primary's memory said "Redis 127.0.0.1:26379 …".
@Suite(.serialized) struct JobStoreSentinelErrorTests {
    @Test func anEnqueueRefusedByThePrimaryNamesThePrimary() async throws {
        let group = try await SentinelGroup()
        let redis = try RedisClient(url: group.url)
        defer { redis.close() }
        let jobs = JobQueue(redis: redis, namespace: TestRedis.uniquePrefix("sentinel-errors"))
        try await jobs.enqueue(type: "diag.record", payload: ["key": "k", "member": "m"])  // the primary is known
        let port = try await group.primaryPort()
        let direct = SentinelGroup.client(port: port)
        defer { direct.close() }
        try await direct.send("CONFIG", "SET", "maxmemory", "1")
        let refused = await #expect(throws: RedisError.self) {
            try await jobs.enqueue(type: "diag.record", payload: ["key": "k", "member": "n"], options: EnqueueOptions(runAt: Date() + 60))
        }
        _ = try? await direct.send("CONFIG", "SET", "maxmemory", "0")
        #expect(refused?.endpoint == "127.0.0.1:\(port)" && refused?.message.contains("OOM") == true, "\(String(describing: refused))")
    }
}

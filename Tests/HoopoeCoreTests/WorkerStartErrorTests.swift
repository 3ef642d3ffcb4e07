import Foundation
import HoopoeCore
import Redis
import TestSupport
import Testing

/// A worker that cannot set its queues up says which command failed: the issue saw `XGROUP CREATE` named when the
/// refused one was `SADD <ns>:queues`.
struct WorkerStartErrorTests {
    @Test("a refused SADD of the queues set is named SADD, not XGROUP CREATE")
    func refusedSaddIsNamed() async throws {
        let admin = try TestRedis.client()
        defer { admin.close() }
        let user = "nosadd\(UUID().uuidString.prefix(8).lowercased())"
        try await admin.send("ACL", "SETUSER", user, "on", ">pw", "~*", "+@all", "-sadd")
        defer { Task { _ = try? await admin.send("ACL", "DELUSER", user) } }
        var configuration = try RedisConfiguration(url: TestRedis.url())
        configuration.username = user
        configuration.password = "pw"
        let redis = RedisClient(configuration: configuration)
        defer { redis.close() }
        let jobs = JobQueue(redis: redis, namespace: TestRedis.uniquePrefix())
        let worker = Worker(jobs: jobs, registry: .diagnostic, options: .fastTest(queues: ["mail", "default"]), logger: EngineHarness.quietLogger)
        await #expect {
            try await worker.run()
        } throws: { error in
            (error as? RedisError)?.command == "SADD" && (error as? RedisError)?.code == .permissionDenied
        }
    }
}

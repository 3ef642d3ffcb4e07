import Foundation
import HoopoeCore
import HoopoeJSON
import Redis
import TestSupport
import Testing

/// A worker with `REDIS_WAIT_REPLICAS` on a primary that has none of its scripts (a replica just promoted: Redis does not
/// copy loaded scripts to replicas) and too few replicas (none here). The acknowledgement's `EVALSHA` answers `NOSCRIPT`:
/// it must be loaded and sent again before the `WAIT`'s verdict. Judged first, the verdict said "acknowledged on the
/// primary, too few replicas" for a script that never ran, the leases were let go, and the job ran again after its
/// lease (in a sentinel failover 148 of ~900 jobs; with the shortage lasting, every job twice, then dead).
@Suite struct ForgottenScriptsDurableTests {
    @Test func aJobOnAPrimaryThatForgotTheScriptsRunsOnceAndIsAcknowledged() async throws {
        let server = try RedisServer()
        let space = try TestNamespace(url: server.url)  // plain: enqueues and looks
        var configuration = try RedisConfiguration(url: server.url)
        configuration.waitReplicas = 1
        configuration.waitTimeout = .milliseconds(50)
        let durable = RedisClient(configuration: configuration)
        defer { durable.close() }
        let jobs = JobQueue(redis: durable, namespace: space.namespace)
        let worker = Worker(jobs: jobs, registry: .diagnostic, options: .fastTest(lease: .seconds(2)), logger: EngineHarness.quietLogger)
        let task = Task { try await worker.run() }
        let key = "\(space.namespace):ran"
        func ran(_ member: String) async throws -> Int { try await space.redis.send("HGET", key + ":count", member).int ?? 0 }
        func payload(_ member: String) -> JSONValue { .object(["key": .string(key), "member": .string(member)]) }

        // A first job: the worker has loaded and used its scripts.
        try await space.jobs.enqueue(type: "diag.record", payload: payload("first"))
        #expect(try await eventually(timeout: .seconds(20)) { try await ran("first") == 1 })

        _ = try await space.redis.send("SCRIPT", "FLUSH")
        try await space.jobs.enqueue(type: "diag.record", payload: payload("second"))
        let stream = space.jobs.keys("default").stream
        let acknowledged = try await eventually(timeout: .seconds(20)) {
            let pending = try await space.redis.send("XPENDING", stream, QueueKeys.group).array?.first?.int ?? -1
            return try await ran("second") == 1 && pending == 0
        }
        #expect(acknowledged, "ran and acknowledged")
        // Past the 2 s lease and a recovery round: a delivery left unacknowledged would have run again by now.
        try await Task.sleep(for: .seconds(4))
        worker.shutdown()
        try await task.value
        #expect(try await ran("second") == 1, "ran once")
        let info = try await space.jobs.info(queue: "default")
        #expect(info.inFlight == 0 && info.scheduled == 0 && info.dead == 0 && info.ready == 0, "\(info)")
    }
}

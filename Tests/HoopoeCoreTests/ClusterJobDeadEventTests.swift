import Foundation
import HoopoeCore
import HoopoeJSON
import Redis
import TestSupport
import Testing

/// On a cluster `job.dead` is written before the script that buries the job (decision 0026): when the script does
/// not run, the job comes back after its lease, dies again and its event is written again. Every copy names the same
/// `entry_id`, so consumers de-duplicating on `job_id` with `entry_id` (jobs/EVENTS.md) count one death.
@Suite(.serialized) struct ClusterJobDeadEventTests {
    @Test func aDeathWrittenAgainNamesTheSameEntry() async throws {
        let servers = try ClusterServers.shared()
        let redis = try RedisClient(url: servers.url)
        defer { redis.close() }
        let namespace = TestRedis.uniquePrefix("cluster-dead-key")
        let jobs = JobQueue(redis: redis, namespace: namespace)
        let queue = try servers.tag(onNode: 1, prefix: "d")
        let k = jobs.keys(queue)
        // A dead set Redis refuses (a key of another type): the event goes out, the script stops at its first call and
        // leaves the job delivered (kill.lua), to die again after its lease.
        try await redis.send("SET", k.dead, "not a sorted set")
        _ = try await jobs.enqueue(type: "no.such.type", payload: .object([:]), options: EnqueueOptions(queue: queue, id: "dies-once"))
        let options = WorkerOptions(
            queues: QueueSelection([queue]), concurrency: 2, lease: .seconds(1), recoveryInterval: .milliseconds(100),
            promoteInterval: .milliseconds(50), fetchBlock: .milliseconds(100), shutdownTimeout: .seconds(2))
        let worker = Worker(jobs: jobs, registry: .diagnostic, options: options, logger: EngineHarness.quietLogger)
        let task = Task { try await worker.run() }
        let events = jobs.global.events
        #expect(try await eventually(timeout: .seconds(20)) { try await JobDeadEventKeyTests.deadEvents(redis, stream: events).count >= 2 })
        try await redis.send("DEL", k.dead)
        #expect(try await eventually(timeout: .seconds(20)) { try await jobs.info(queue: queue).dead == 1 })
        worker.shutdown()
        try await task.value

        let deaths = try await JobDeadEventKeyTests.deadEvents(redis, stream: events)
        #expect(deaths.count >= 2, "written again for one death: \(deaths)")
        let entries = Set(deaths.map { $0["entry_id"]?.stringValue ?? "" })
        #expect(entries.count == 1 && entries.first?.isEmpty == false, "one death, one (job_id, entry_id): \(deaths)")
        #expect(deaths.allSatisfy { $0["job_id"] == .string("dies-once") })
    }
}

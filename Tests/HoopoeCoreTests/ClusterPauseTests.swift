import Foundation
import HoopoeCore
import HoopoeJSON
import Redis
import TestSupport
import Testing

/// Pause and resume on a real three-primary cluster (decision 0029): the paused-queues hash lives on one node, the
/// queues on the others; a worker there reads each queue on its own node, and the pause still stops exactly the
/// paused queue and a resume starts it.
@Suite(.serialized) struct ClusterPauseTests {
    @Test func aPauseStopsOneQueueOnItsNodeAndResumeStartsIt() async throws {
        let servers = try ClusterServers.shared()
        let redis = try RedisClient(url: servers.url)
        defer { redis.close() }
        let jobs = JobQueue(redis: redis, namespace: TestRedis.uniquePrefix("cluster-pause"))
        let queues = try (0..<3).map { try servers.tag(onNode: $0, prefix: "p") }
        var options = WorkerOptions(
            queues: QueueSelection(queues), concurrency: 4, recoveryInterval: .milliseconds(200), promoteInterval: .milliseconds(50),
            fetchBlock: .seconds(1), shutdownTimeout: .seconds(2))
        options.pauseCheckInterval = .milliseconds(200)
        let worker = Worker(jobs: jobs, registry: .diagnostic, options: options, logger: EngineHarness.quietLogger)
        #expect(try await jobs.pause(queue: queues[1]))
        let task = Task { try await worker.run() }
        let key = "\(jobs.namespace):{rec}:ran"
        func count() async throws -> Int { (try await redis.send("HLEN", key + ":count").int) ?? 0 }
        _ = try await jobs.enqueueBatch(queues.flatMap { queue in
            (0..<5).map { (type: "diag.record", payload: JSONValue.object(["key": .string(key), "member": .string("\(queue)-\($0)")]), options: EnqueueOptions(queue: queue)) }
        })
        #expect(try await TestSupport.eventually { try await count() == 10 }, "the two other queues run")
        try await Task.sleep(for: .seconds(1))
        #expect(try await count() == 10)
        #expect(try await jobs.info(queue: queues[1]).ready == 5, "the paused queue's jobs stay ready")
        #expect(try await jobs.resume(queue: queues[1]))
        #expect(try await TestSupport.eventually { try await count() == 15 })
        worker.shutdown()
        try await task.value
    }
}

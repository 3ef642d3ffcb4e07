import Foundation
import HoopoeCore
import HoopoeJSON
import Redis
import TestSupport
import Testing

/// A cancel of a job a worker fetched, on a real three-primary cluster (decision 0089): the worker reads the requests of
/// queues on every node in one pipeline, and the request, the settle and the answer are each one step in the queue's
/// slot.
@Suite(.serialized) struct ClusterCancelTests {
    @Test func aFetchedJobOnAnotherNodeIsCancelledByItsHolder() async throws {
        let servers = try ClusterServers.shared()
        let redis = try RedisClient(url: servers.url)
        defer { redis.close() }
        let jobs = JobQueue(redis: redis, namespace: TestRedis.uniquePrefix("cluster-cancel"))
        let queues = try (0..<3).map { try servers.tag(onNode: $0, prefix: "c") }
        let gate = TestGate()
        defer { gate.open() }
        var options = WorkerOptions(
            queues: QueueSelection(queues), concurrency: 1, recoveryInterval: .milliseconds(200), promoteInterval: .milliseconds(50),
            fetchBlock: .seconds(1), shutdownTimeout: .seconds(2))
        options.pauseCheckInterval = .milliseconds(200)
        let key = "\(jobs.namespace):{rec}:ran"
        let queue = queues[2]
        func diag(_ member: String) -> JSONValue { .object(["key": .string(key), "member": .string(member)]) }
        let blocker = try #require(try await jobs.enqueue(type: GatedRecordJob.type, payload: diag("blocker"), options: EnqueueOptions(queue: queue)).createdID)
        let held = try #require(try await jobs.enqueue(type: "diag.record", payload: diag("held"), options: EnqueueOptions(queue: queue)).createdID)
        let worker = Worker(jobs: jobs, registry: .diagnostic(gatedBy: gate), options: options, logger: EngineHarness.quietLogger)
        let task = Task { try await worker.run() }
        #expect(try await TestSupport.eventually { try await jobs.info(queue: queue).inFlight == 2 }, "the blocker runs, the other waits fetched")

        #expect(try await jobs.cancel(id: held, queue: queue, holderWait: .seconds(20)) == .cancelled)
        #expect(try await jobs.cancel(id: blocker, queue: queue, holderWait: .seconds(20)) == .running)
        #expect(try await jobs.info(queue: queue).inFlight == 1)
        gate.open()
        #expect(try await TestSupport.eventually { try await jobs.info(queue: queue).inFlight == 0 })
        worker.shutdown()
        try await task.value
        let ran = try await redis.send("HGETALL", key + ":count").array?.compactMap(\.string) ?? []
        #expect(ran == ["blocker", "1"], "the cancelled job never ran: \(ran)")
    }
}

import Foundation
import HoopoeJSON
import Redis
import TestSupport
import Testing

@testable import HoopoeCore

/// On a Redis Cluster one node refusing writes (`maxmemory`) pauses the fetch of its own queues only: the worker's
/// other queues, on healthy nodes, are served meanwhile (decision 0111). Before, the refusal was the worker's: a settle
/// refused on one node paused every queue's fetch for as long as the refusal lasted.
/// A suite of the heavy phase (`HEAVY_SUITES`): it makes a cluster of its own (one of its nodes at `maxmemory` would
/// refuse the shared cluster's other tests).
@Suite(.serialized) struct WriteRefusalClusterTests {
    /// Counts its runs, touching no Redis.
    struct CountedJob: JobHandler {
        struct Payload: Codable, Sendable {}
        static let type = "test.refused-node-counted"
        let runs: RunCounter
        func run(_ payload: Payload, context: JobContext) async throws { runs.add() }
    }

    /// Queue a on node 0, b on node 1. A job of a fails while node 0 is at `maxmemory`: its retry is refused (and tried
    /// again, its lease held), and a's fetch pauses. Jobs enqueued on b meanwhile run; a's read waits (no blocked
    /// `XREADGROUP` on node 0) until node 0 takes writes again.
    @Test func oneNodeRefusingWritesPausesOnlyItsQueues() async throws {
        let servers = try await offPool { try ClusterServers(replicas: 0) }
        let redis = try RedisClient(url: servers.url)
        defer { redis.close() }
        let node0 = RedisClient(configuration: RedisConfiguration(endpoint: servers.endpoints[0]))
        defer { node0.close() }
        let jobs = JobQueue(redis: redis, namespace: TestRedis.uniquePrefix("refused-node"))
        let refusedQueue = try servers.tag(onNode: 0, prefix: "a"), servedQueue = try servers.tag(onNode: 1, prefix: "b")
        let gate = TestGate()
        defer { gate.open() }
        let failing = RunCounter()
        let counted = RunCounter()
        var registry = JobRegistry()
        registry.register(SettleOutageTests.FailingGatedJob(gate: gate, runs: failing))
        registry.register(CountedJob(runs: counted))
        try await jobs.enqueue(type: SettleOutageTests.FailingGatedJob.type, payload: ["permanent": .bool(false)], options: EnqueueOptions(queue: refusedQueue, maxAttempts: 3))
        let log = CapturedLog()
        let worker = Worker(
            jobs: jobs, registry: registry, options: .fastTest(queues: [refusedQueue, servedQueue], concurrency: 3, lease: .seconds(10)),
            logger: log.logger)
        let run = Task { try await worker.run() }
        #expect(try await TestSupport.eventually { failing.value == 1 }, "the job of the refused queue runs")

        try await node0.send("CONFIG", "SET", "maxmemory-policy", "noeviction")
        try await node0.send("CONFIG", "SET", "maxmemory", "1")
        gate.open()  // its retry is refused by node 0, and tried again
        #expect(try await TestSupport.eventually { worker.writeRefusals.current(queue: refusedQueue) != nil }, "the refusal is seen")
        let pausedLine = try await TestSupport.eventually { log.all.contains { $0.contains("fetching") && $0.contains("paused") } }
        #expect(pausedLine, "the fetch of the refused queue pauses")
        #expect(log.all.contains { $0.contains("fetching queue \(refusedQueue) paused") }, "the pause names the queue: \(log.all)")
        // One fetch block more: every read in flight when the refusal came has returned (its jobs still run).
        try await Task.sleep(for: .milliseconds(300))
        for _ in 0..<3 { try await jobs.enqueue(type: CountedJob.type, payload: [:], options: EnqueueOptions(queue: servedQueue)) }
        let served = try await TestSupport.eventually(timeout: .seconds(5)) { counted.value == 3 }
        // a's fetch waits: no read blocks on node 0 (a 200-ms block: one would be seen in some of these looks).
        var blockedReads = 0
        for _ in 0..<8 {
            let clients = try await node0.send("INFO", "clients").string ?? ""
            if !clients.contains("blocked_clients:0") { blockedReads += 1 }
            try await Task.sleep(for: .milliseconds(100))
        }
        let stillRefused = worker.writeRefusals.current(queue: refusedQueue) != nil
        try await node0.send("CONFIG", "SET", "maxmemory", "0")
        #expect(served, "the healthy node's queue ran \(counted.value) of 3 jobs while node 0 refused writes")
        #expect(stillRefused, "node 0's queue was still refused meanwhile")
        #expect(blockedReads == 0, "the refused queue's fetch read on \(blockedReads) of 8 looks")

        #expect(try await TestSupport.eventually { try await jobs.info(queue: refusedQueue).inFlight == 0 }, "the retry lands once node 0 takes writes")
        #expect(try await TestSupport.eventually { worker.writeRefusals.current(queue: refusedQueue) == nil }, "and a's fetch resumes")
        worker.shutdown()
        try await run.value
        #expect(failing.value == 1, "the failed job ran \(failing.value) times")
    }
}

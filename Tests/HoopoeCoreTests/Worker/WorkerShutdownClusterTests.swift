import Foundation
import HoopoeJSON
import Redis
import TestSupport
import Testing

@testable import HoopoeCore

/// A worker stopping on a real cluster while one primary is gone (a node drain's SIGTERM and the primary's host going
/// with it): the failed primary's acknowledgement flight waits out the failover window, and the other queues' flights
/// wait behind it. Their jobs' leases are renewed until the last acknowledgement lands, so no other worker runs a job
/// this one finished. Before, renewal stopped with the last runner, those leases lapsed and the jobs ran twice.
/// A suite of the heavy phase (`HEAVY_SUITES`): it makes a cluster of its own and kills a node.
@Suite(.serialized) struct WorkerShutdownClusterTests {
    /// Waits at `gate`, then half a second more, then records: it finishes after ``GatedRecordJob`` opened by the same gate.
    struct LaterGatedRecordJob: JobHandler {
        typealias Payload = DiagRecordJob.Payload
        static let type = "test.gated-record-later"
        let gate: TestGate
        func run(_ payload: Payload, context: JobContext) async throws {
            await gate.wait()
            try await Task.sleep(for: .milliseconds(500))
            try await DiagRecordJob().run(payload, context: context)
        }
    }

    @Test func aFlightWaitingForAFailedPrimaryLetsNoOtherQueuesJobRunTwice() async throws {
        let servers = try await offPool { try ClusterServers(replicas: 0, nodeTimeout: 1000) }
        var configuration = try RedisConfiguration(url: servers.url)
        configuration.clusterFailoverWindow = .seconds(6)
        let redis = RedisClient(configuration: configuration)
        defer { redis.close() }
        let jobs = JobQueue(redis: redis, namespace: TestRedis.uniquePrefix("shutdown"))
        let victim = try servers.tag(onNode: 0, prefix: "v"), healthy = try servers.tag(onNode: 1, prefix: "h")
        let gate = TestGate()
        defer { gate.open() }
        var registry = JobRegistry.diagnostic(gatedBy: gate)
        registry.register(LaterGatedRecordJob(gate: gate))
        func options(_ queues: [String], consumer: String) -> WorkerOptions {
            var options = WorkerOptions(
                queues: QueueSelection(queues), concurrency: 2, lease: .seconds(2), recoveryInterval: .milliseconds(200),
                promoteInterval: .milliseconds(100), fetchBlock: .milliseconds(500), shutdownTimeout: .seconds(20))
            options.consumer = consumer
            options.unsentAcknowledgementRetry = .seconds(1)  // node 0 is gone for good: its flight gives up soon after the window
            return options
        }
        let key = "\(jobs.namespace):{\(healthy)}:ran"
        let payload = JSONValue.object(["key": .string(key), "member": .string("job")])
        try await jobs.enqueue(type: GatedRecordJob.type, payload: .object(["key": .string(key), "member": .string("v")]), options: EnqueueOptions(queue: victim))
        let finished = try #require(try await jobs.enqueue(type: LaterGatedRecordJob.type, payload: payload, options: EnqueueOptions(queue: healthy)).createdID)
        let first = Worker(jobs: jobs, registry: registry, options: options([victim, healthy], consumer: "first"), logger: EngineHarness.quietLogger)
        let firstRun = Task { try await first.run() }
        #expect(try await TestSupport.eventually {
            let healthyHeld = try await jobs.info(queue: healthy).inFlight, victimHeld = try await jobs.info(queue: victim).inFlight
            return healthyHeld == 1 && victimHeld == 1
        })
        // The healthy queue's other worker, ready to take over any of its jobs whose lease lapses.
        let second = Worker(jobs: jobs, registry: registry, options: options([healthy], consumer: "second"), logger: EngineHarness.quietLogger)
        let secondRun = Task { try await second.run() }
        // Set up and fetching before node 0 goes (its start writes keys that may be there): both workers' reads of the
        // healthy queue block on node 1. (Redis 7.0 adds a consumer to the group only once a read returns entries.)
        let node1 = RedisClient(configuration: RedisConfiguration(endpoint: servers.endpoints[1]))
        defer { node1.close() }
        #expect(try await TestSupport.eventually {
            let clients = try await node1.send("CLIENT", "LIST").string ?? ""
            return clients.split(separator: "\n").filter { $0.contains("cmd=xreadgroup") }.count >= 2
        })

        servers.nodes[0].kill()  // no replica: the victim's acknowledgement waits out the 6 s failover window
        first.shutdown()
        gate.open()  // the victim's job ends first, the healthy queue's half a second later, behind its flight
        try await firstRun.value
        second.shutdown()
        try await secondRun.value

        let runs = try await redis.send("HGET", key + ":count", "job").int
        #expect(runs == 1, "the healthy queue's job ran \(runs ?? 0) times")
        #expect(try await jobs.find(id: finished, queue: healthy) == nil, "and its acknowledgement landed")
    }
}

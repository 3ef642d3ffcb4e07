import HoopoeJSON
import Redis
import TestSupport
import Testing

@testable import HoopoeCore

/// The acknowledger on a real three-primary cluster on loopback (decision 0048). A suite of its own in `make test`'s
/// heavy phase (`HEAVY_SUITES`): creating the shared test cluster blocks a cooperative thread for seconds, which in the
/// parallel phase held up every other suite's tests (the first of them finished only after ~7–10 s).
@Suite struct AcknowledgerClusterTests {
    /// On a cluster a flight carries one queue's acknowledgements, those of the queue that waited longest; the other
    /// queues' wait for flights of their own, so each node gets its jobs in fewer, larger script calls. A lone job still
    /// leaves at once, and every queue's jobs end acknowledged on their node. (One server does the same since decision
    /// 0094: `AcknowledgerTests.aFlightCarriesOneQueue`.)
    @Test func onAClusterAFlightCarriesOneQueue() async throws {
        let servers = try ClusterServers.shared()
        // One queue on each primary; the first one's node holds writes while the others' acknowledgements come.
        let queues = try (0..<3).map { try servers.tag(onNode: $0, prefix: "ack") }
        let control = try RedisClient(url: servers.nodes[0].url)
        defer { control.close() }
        try await AcknowledgerTests.Setting(url: servers.url).expectOneQueueAFlight(queues: queues, pausing: control)
    }

    /// A queue's slot migrating: the acknowledgement script declares keys that are not there yet (its history, its
    /// counters), so the source answers `TRYAGAIN` until the slot has moved. The call is tried again, the leases held,
    /// and lands when the migration ends. Before, the router's 3 s of `TRYAGAIN` ran out and the acknowledgement was
    /// given up: every job finished during a longer migration ran again after its lease.
    @Test func anAcknowledgementDuringASlotMigrationLandsWhenItEnds() async throws {
        let servers = try ClusterServers.shared()
        let queue = try servers.tag(onNode: 0, prefix: "migrating")
        let slot = HashSlot.of(queue)
        let redis = try RedisClient(url: servers.url)
        defer { redis.close() }
        let jobs = JobQueue(redis: redis, namespace: TestRedis.uniquePrefix("mig"))
        let stream = jobs.keys(queue).stream
        try await jobs.store.createGroups(queues: [queue])
        try await jobs.enqueue(type: "diag.record", payload: .object([:]), options: EnqueueOptions(queue: queue))
        let read = try await redis.send("XREADGROUP", "GROUP", QueueKeys.group, "me", "COUNT", "1", "STREAMS", stream, ">")
        let entry = try #require(read.array?.first?.array?.last?.array?.first?.array?.first?.string)
        servers.beginMigration(slot: slot, from: 0, to: 1)
        let log = CapturedLog()
        let acknowledger = Acknowledger(jobs: jobs, logger: log.logger, consumer: "me", unsentRetry: .seconds(30)) { _ in }
        acknowledger.add(Acknowledgement(queue: queue, entryID: entry, type: "diag.record", jobID: "j", uniqueKey: nil, counter: "processed"))
        try await Task.sleep(for: .seconds(4.5))  // past the router's 3 s of TRYAGAIN
        while servers.moveKeys(slot: slot, from: 0, to: 1) > 0 {}
        servers.finishMigration(slot: slot, from: 0, to: 1)
        await acknowledger.drain()
        let pending = try await redis.send("XPENDING", stream, QueueKeys.group).array?.first?.int
        #expect(pending == 0, "acknowledged once the slot had moved")
        // The log says why, from the error: a migration, not "Redis is unreachable" (which sent operators looking for
        // an outage).
        let waiting = log.all.first { $0.contains("trying again") }
        #expect(waiting?.contains("the queue's cluster slot is migrating (TRYAGAIN)") == true, "\(log.all)")
        #expect(!log.all.contains { $0.contains("unreachable") }, "\(log.all)")
    }
}

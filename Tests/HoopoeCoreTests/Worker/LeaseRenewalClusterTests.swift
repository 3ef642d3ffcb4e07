import Foundation
import Redis
import TestSupport
import Testing

@testable import HoopoeCore

/// Lease renewal on a real three-primary cluster whose one primary stops answering: the other queues' leases are
/// renewed meanwhile (docs/operating.md: "only the failed primary's queues pause"), so their running jobs are not
/// recovered by other workers and run twice.
@Suite(.serialized) struct LeaseRenewalClusterTests {
    @Test func aPrimaryThatStopsAnsweringHoldsBackNoOtherQueuesRenewals() async throws {
        let servers = try await offPool { try ClusterServers(replicas: 0, nodeTimeout: 1000) }
        var configuration = try RedisConfiguration(url: servers.url)
        configuration.clusterFailoverWindow = .seconds(6)
        let redis = RedisClient(configuration: configuration)
        defer { redis.close() }
        let jobs = JobQueue(redis: redis, namespace: TestRedis.uniquePrefix("renew"))
        let victim = try servers.tag(onNode: 0, prefix: "v"), healthy = try servers.tag(onNode: 1, prefix: "h")
        // One entry in each queue's stream, delivered to consumer `c` as a worker's fetch delivers it.
        let leases = Leases()
        for queue in [victim, healthy] {
            let stream = jobs.keys(queue).stream
            _ = try await redis.send("XGROUP", "CREATE", stream, QueueKeys.group, "0", "MKSTREAM")
            _ = try await redis.send("XADD", stream, "*", "job", "{}")
            let read = try await redis.send("XREADGROUP", "GROUP", QueueKeys.group, "c", "COUNT", "1", "STREAMS", stream, ">")
            let entryID = try #require(read.array?.first?.array?[1].array?.first?.array?.first?.string)
            leases.hold([FetchedJob(queue: queue, entryID: entryID, bytes: [], deliveries: 1)])
        }
        let renewal = LeaseRenewal(store: jobs.store, leases: leases, buffer: JobBuffer(selection: QueueSelection(["default"])), consumer: "c", lease: .seconds(2), logger: EngineHarness.quietLogger)
        let running = Task { await renewal.run() }
        try await Task.sleep(for: .milliseconds(600))
        servers.nodes[0].kill()  // no replica: its renewals wait out the 6 s failover window
        let direct = RedisClient(configuration: RedisConfiguration(endpoint: servers.endpoints[1]))
        defer { direct.close() }
        var idles: [Int] = []
        for _ in 0..<20 {
            try await Task.sleep(for: .milliseconds(200))
            let pending = try await direct.send("XPENDING", jobs.keys(healthy).stream, QueueKeys.group, "-", "+", "10").array ?? []
            idles.append(pending.first?.array?[2].int ?? -1)
        }
        // Renewed every 400 ms (a fifth of the lease): its idle time stays under the 2 s lease, whatever node 0 does
        // (waited for, node 0's renewal held it back for the 6 s window).
        #expect(idles.allSatisfy { (0..<2000).contains($0) }, "idle ms of the healthy queue's entry: \(idles)")
        running.cancel()
        await running.value
    }
}

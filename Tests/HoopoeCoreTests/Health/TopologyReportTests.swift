import Foundation
import HoopoeCore
import HoopoeJSON
import Redis
import TestSupport
import Testing

/// The topology part of the health check (and of `hoopoe queues`) against real servers: one server with a replica,
/// the same pair through Sentinel, and a cluster with replicas whose primary is then killed.
@Suite(.serialized) struct TopologyReportTests {
    /// A client with the admin commands' short timeouts (`hoopoe health-check --timeout 1s`).
    private func adminClient(_ url: String) throws -> RedisClient {
        var configuration = try RedisConfiguration(url: url)
        configuration.connectTimeout = .seconds(1)
        configuration.commandTimeout = .seconds(1)
        configuration.reconnectWindow = .seconds(1)
        configuration.clusterFailoverWindow = .seconds(1)
        return RedisClient(configuration: configuration)
    }

    @Test("one server: its address, role and the replica in sync; pointed at the replica, the check fails; through Sentinel: the primary the sentinels name")
    func standaloneAndSentinel() async throws {
        let group = try await SentinelGroup()
        let primary = group.nodes[0], replica = group.nodes[1]

        let direct = try adminClient("redis://127.0.0.1:\(primary.port)/0")
        defer { direct.close() }
        let report = try await TopologyReport.probe(direct)
        #expect(report.kind == .standalone)
        #expect(report.primaries.map(\.address) == ["127.0.0.1:\(primary.port)"])
        #expect(report.primaries.first?.role == "master")
        #expect(report.primaries.first?.replicas.map(\.address) == ["127.0.0.1:\(replica.port)"])
        #expect(report.primaries.first?.replicasInSync == 1)
        #expect(report.finding.status == .ok, "\(report.finding)")
        #expect(report.finding.message.hasPrefix("standalone 127.0.0.1:\(primary.port) (master), 1 replica in sync"), "\(report.finding.message)")

        // The health check carries it: a `topology` check and a `topology` part in the JSON.
        let health = await HealthCheck(jobs: JobQueue(redis: direct, namespace: TestRedis.uniquePrefix("topo"))).run()
        #expect(health.finding("topology")?.status == .ok)
        #expect(health.json["topology"]?["kind"]?.stringValue == "standalone")
        #expect(health.json["topology"]?["primaries"]?.arrayValue?.first?["replicas"]?.arrayValue?.first?["in_sync"] == .bool(true))

        let onReplica = try adminClient("redis://127.0.0.1:\(replica.port)/0")
        defer { onReplica.close() }
        let wrong = try await TopologyReport.probe(onReplica)
        #expect(wrong.finding.status == .fail)
        #expect(wrong.finding.message.contains("127.0.0.1:\(replica.port) is a replica"), "\(wrong.finding.message)")

        let sentinel = try adminClient(group.url)
        defer { sentinel.close() }
        let followed = try await TopologyReport.probe(sentinel)
        #expect(followed.kind == .sentinel)
        #expect(followed.masterName == group.masterName)
        #expect(followed.primaries.map(\.address) == ["127.0.0.1:\(try await group.primaryPort())"])
        #expect(followed.primaries.first?.replicasInSync == 1)
        #expect(followed.finding.message.hasPrefix("sentinel: primary '\(group.masterName)' at 127.0.0.1:\(primary.port) (master), 1 replica in sync"), "\(followed.finding.message)")

        // Durable writes asking for more replicas than are in sync: every enqueue fails, and the check says so.
        let asking = try adminClient("redis://127.0.0.1:\(primary.port)/0?wait_replicas=2&wait_timeout_ms=50")
        defer { asking.close() }
        let short = await HealthCheck(jobs: JobQueue(redis: asking, namespace: TestRedis.uniquePrefix("topo"))).run()
        let finding = try #require(short.finding("topology"))
        #expect(finding.status == .fail && short.verdict != .healthy, "\(finding)")
        #expect(finding.message.contains("has 1 replica in sync and REDIS_WAIT_REPLICAS (or wait_replicas=) asks for 2"), "\(finding.message)")
        let enough = try adminClient("redis://127.0.0.1:\(primary.port)/0?wait_replicas=1")
        defer { enough.close() }
        #expect(try await TopologyReport.probe(enough).finding.status == .ok)

        // A URL naming one sentinel of three is no problem: the quorum is asked of the sentinels, who know them all.
        #expect(followed.sentinels?.answered == 3 && followed.sentinels?.problems.isEmpty == true && followed.sentinels?.noQuorum == nil)
        let oneNamed = try adminClient("redis-sentinel://127.0.0.1:\(group.sentinelPorts[0])/0?master=\(group.masterName)")
        defer { oneNamed.close() }
        #expect(try await TopologyReport.probe(oneNamed).finding.status == .ok)
        // A sentinel down is a warning naming it; with two of three down no failover can happen: a failure, once the
        // one left has seen the others go (its down-after time).
        group.stopSentinel(2)
        let oneDown = try await TopologyReport.probe(sentinel).finding
        #expect(oneDown.status == .warn && oneDown.message.contains("sentinel 127.0.0.1:\(group.sentinelPorts[2])"), "\(oneDown.message)")
        group.stopSentinel(1)
        var twoDown = try await TopologyReport.probe(sentinel).finding
        #expect(try await eventually(timeout: .seconds(30)) {
            twoDown = try await TopologyReport.probe(sentinel).finding
            return twoDown.status == .fail
        }, "\(twoDown.message)")
        #expect(twoDown.message.contains("the sentinels cannot fail the primary over now") && twoDown.message.contains("NOQUORUM"), "\(twoDown.message)")
    }

    @Test("a cluster: every primary with its slots and its replica in sync; a killed primary fails the health check, named by address")
    func clusterWithAKilledPrimary() async throws {
        let servers = try await offPool { try ClusterServers(replicas: 1, nodeTimeout: 5000) }
        let redis = try adminClient(servers.url)
        defer { redis.close() }
        let report = try await TopologyReport.probe(redis)
        #expect(report.kind == .cluster)
        #expect(Set(report.primaries.map(\.address)) == Set(servers.nodes.prefix(3).map { "127.0.0.1:\($0.port)" }))
        #expect(report.primaries.reduce(0) { $0 + ($1.slots ?? 0) } == 16384)
        #expect(report.primaries.allSatisfy { $0.reachable && $0.role == "master" && $0.replicasInSync == 1 }, "\(report.primaries)")
        #expect(report.finding.status == .ok, "\(report.finding)")
        #expect(report.finding.message == "cluster: 3 of 3 primaries reachable, 16384 slots served, 3 replicas in sync")

        // INFO runs on every primary: one that may evict is named.
        let evicting = servers.nodes[1]
        ClusterServers.cli(port: evicting.port, ["CONFIG", "SET", "maxmemory-policy", "allkeys-lru"])
        let settings = await HealthCheck(jobs: JobQueue(redis: redis, namespace: TestRedis.uniquePrefix("topo"))).run()
        #expect(settings.finding("redis_version")?.message.hasSuffix("on 3 primaries") == true, "\(settings.findings)")
        let policy = try #require(settings.finding("maxmemory_policy"))
        #expect(policy.status == .warn && policy.message.contains("allkeys-lru on 127.0.0.1:\(evicting.port)"), "\(policy.message)")

        let victim = servers.nodes[2]
        let promoted = try servers.replicaIndex(of: 2)
        victim.kill()
        let health = await HealthCheck(jobs: JobQueue(redis: redis, namespace: TestRedis.uniquePrefix("topo"))).run()
        let finding = try #require(health.finding("topology"))
        #expect(finding.status == .fail)
        #expect(finding.message.contains("cluster primary 127.0.0.1:\(victim.port) unreachable"), "\(finding.message)")
        #expect(health.finding("redis_version")?.status == .ok, "the primaries that answer are read: \(health.findings)")
        // Unhealthy, or unreachable when one of Hoopoe's shared keys (heartbeats, queue list) lives on the dead node.
        #expect(health.verdict != .healthy, "\(health.findings)")
        let listed = health.json["topology"]?["primaries"]?.arrayValue ?? []
        #expect(listed.contains { $0["address"]?.stringValue == "127.0.0.1:\(victim.port)" && $0["reachable"] == .bool(false) }, "\(listed)")

        // Once its replica is promoted and serves its slots, the dead node serves nothing: a warning, not a failed
        // primary. It failed the check (exit 1) after a failover that had worked, until the node came back or was
        // forgotten, and the table listed it as a primary of 0 slots.
        try await offPool { try servers.waitUntilPrimary(promoted) }
        let failedOver = try await eventually(timeout: .seconds(10)) {
            let report = try? await TopologyReport.probe(redis)
            return report?.unservedSlots == 0 && report?.primaries.contains { $0.address == "127.0.0.1:\(servers.nodes[promoted].port)" } == true
        }
        #expect(failedOver, "the replica serves the dead primary's slots")
        let healed = await HealthCheck(jobs: JobQueue(redis: redis, namespace: TestRedis.uniquePrefix("topo"))).run()
        let topology = try #require(healed.finding("topology"))
        #expect(topology.status == .warn, "\(topology)")
        #expect(topology.message.contains("failed node 127.0.0.1:\(victim.port), its slots failed over"), "\(topology.message)")
        let primaries = healed.json["topology"]?["primaries"]?.arrayValue ?? []
        #expect(!primaries.contains { $0["address"]?.stringValue == "127.0.0.1:\(victim.port)" }, "not a primary: \(primaries)")
        #expect(healed.json["topology"]?["failed_nodes"] == .array([.string("127.0.0.1:\(victim.port)")]), "\(healed.json)")
        #expect(!healed.findings.contains { $0.status == .fail && ["topology", "redis", "redis_version"].contains($0.name) }, "\(healed.findings)")
    }
}

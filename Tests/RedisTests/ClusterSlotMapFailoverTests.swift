import Testing

@testable import Redis

/// `CLUSTER SHARDS` right after a `kill -9` and a promotion, as Redis 7.0 answers it: the dead primary stays listed
/// in its shard, `health failed`, beside the promoted replica. The map must name the replica, never the dead node.
@Suite struct ClusterSlotMapFailoverTests {
    private func node(port: Int, role: String, health: String) -> RedisReply {
        .array([
            .bulk(Array("id".utf8)), .bulk(Array("n\(port)".utf8)), .bulk(Array("port".utf8)), .integer(Int64(port)),
            .bulk(Array("ip".utf8)), .bulk(Array("127.0.0.1".utf8)), .bulk(Array("endpoint".utf8)), .bulk(Array("127.0.0.1".utf8)),
            .bulk(Array("role".utf8)), .bulk(Array(role.utf8)), .bulk(Array("health".utf8)), .bulk(Array(health.utf8)),
        ])
    }

    private func shard(low: Int, high: Int, _ nodes: [RedisReply]) -> RedisReply {
        .array([.bulk(Array("slots".utf8)), .array([.integer(Int64(low)), .integer(Int64(high))]), .bulk(Array("nodes".utf8)), .array(nodes)])
    }

    @Test func aFailedPrimaryListedFirstIsSkippedForThePromotedReplica() throws {
        let reply = RedisReply.array([
            shard(low: 0, high: 8191, [node(port: 7000, role: "master", health: "failed"), node(port: 7003, role: "master", health: "online")]),
            shard(low: 8192, high: 16383, [node(port: 7001, role: "master", health: "online"), node(port: 7004, role: "replica", health: "online")]),
        ])
        let map = try #require(ClusterSlotMap.parse(shards: reply, fallbackHost: "127.0.0.1"))
        #expect(map.primary(for: 0) == .tcp(host: "127.0.0.1", port: 7003))
        #expect(map.primary(for: 16383) == .tcp(host: "127.0.0.1", port: 7001))
        #expect(map.failedPrimaries == [.tcp(host: "127.0.0.1", port: 7000)])
        #expect(map.slotCount(of: .tcp(host: "127.0.0.1", port: 7003)) == 8192)
        #expect(map.nodes.contains(.tcp(host: "127.0.0.1", port: 7004)), "the replica is a node to ask for the map")
        #expect(!map.nodes.contains(.tcp(host: "127.0.0.1", port: 7000)), "the dead node is not")
    }

    @Test func aShardWhosePrimaryFailedAndNoneWasPromotedServesNothing() throws {
        let reply = RedisReply.array([
            shard(low: 0, high: 99, [node(port: 7000, role: "master", health: "failed"), node(port: 7003, role: "replica", health: "online")]),
        ])
        let map = try #require(ClusterSlotMap.parse(shards: reply, fallbackHost: "127.0.0.1"))
        #expect(map.coveredSlots == 0)
        #expect(map.failedPrimaries == [.tcp(host: "127.0.0.1", port: 7000)])
    }
}

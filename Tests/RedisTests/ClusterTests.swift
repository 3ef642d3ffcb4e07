import Foundation
import Synchronization
import TestSupport
import Testing

@testable import Redis

/// The cluster client against a real three-primary cluster on loopback (``ClusterServers``): the slot map, routing,
/// pipelines split per node, and every redirection a node may answer with.
@Suite(.serialized) struct ClusterTests {
    let servers: ClusterServers

    init() throws {
        servers = try ClusterServers.shared()
    }

    private func cluster(reconnectWindow: Duration = .seconds(3)) -> RedisCluster {
        var configuration = RedisConfiguration(endpoint: servers.endpoints[0])
        configuration.reconnectWindow = reconnectWindow
        return RedisCluster(configuration: configuration, seeds: servers.endpoints)
    }

    @Test("without routing a cluster refuses what one Redis took: MOVED for a key elsewhere, CROSSSLOT for one read of two streams")
    func theIssuesFailures() async throws {
        let plain = RedisClient(configuration: RedisConfiguration(endpoint: servers.endpoints[0]))
        defer { plain.close() }
        let elsewhere = try servers.tag(onNode: 1)
        await #expect { try await plain.send("SET", "h:{\(elsewhere)}:k", "v") } throws: { ($0 as? RedisError)?.message.hasPrefix("MOVED") == true }
        let a = try servers.tag(onNode: 0), b = try servers.tag(onNode: 0)
        await #expect {
            try await plain.send(RedisCommand("XREAD", ["COUNT", "1", "STREAMS", "h:{\(a)}:stream", "h:{\(b)}:stream", "0", "0"]))
        } throws: { ($0 as? RedisError)?.message.hasPrefix("CROSSSLOT") == true }
    }

    @Test("the slot map covers every slot with the three primaries, as CLUSTER NODES says")
    func slotMap() async throws {
        let cluster = cluster()
        defer { cluster.close() }
        let map = try await cluster.refresh()
        #expect(map.coveredSlots == HashSlot.count)
        #expect(Set(map.primaries) == Set(servers.endpoints))
        for slot in [0, 5460, 5461, 10922, 10923, 16383, HashSlot.of("mail")] {
            #expect(map.primary(for: slot) == servers.endpoints[try servers.owner(ofSlot: slot)], "slot \(slot)")
        }
    }

    @Test("CLUSTER SLOTS gives the same map as CLUSTER SHARDS (the fallback for a Redis before 7)")
    func slotsFallback() async throws {
        let plain = RedisClient(configuration: RedisConfiguration(endpoint: servers.endpoints[0]))
        defer { plain.close() }
        let shards = try #require(ClusterSlotMap.parse(shards: try await plain.send("CLUSTER", "SHARDS"), fallbackHost: "127.0.0.1"))
        let slots = try #require(ClusterSlotMap.parse(slots: try await plain.send("CLUSTER", "SLOTS"), fallbackHost: "127.0.0.1"))
        for slot in stride(from: 0, to: HashSlot.count, by: 97) { #expect(shards.primary(for: slot) == slots.primary(for: slot)) }
    }

    @Test("a pipeline over keys on all three nodes is split per node and its replies come back in order")
    func pipelineSplit() async throws {
        let cluster = cluster()
        defer { cluster.close() }
        let tags = try (0..<3).map { try servers.tag(onNode: $0) }
        var commands: [RedisCommand] = []
        for i in 0..<300 { commands.append(RedisCommand("RPUSH", "h:{\(tags[i % 3])}:list", "v\(i)")) }
        commands.append(RedisCommand("PING"))
        let replies = try await cluster.send(commands)
        #expect(replies.count == 301)
        for i in 0..<300 { #expect(replies[i] == .integer(Int64(i / 3 + 1))) }
        #expect(replies[300] == .status("PONG"))
        // Each list is on its own node, holding its own values in order.
        for (node, tag) in tags.enumerated() {
            let direct = RedisClient(configuration: RedisConfiguration(endpoint: servers.endpoints[node]))
            defer { direct.close() }
            let values = try await direct.send("LRANGE", "h:{\(tag)}:list", "0", "-1").array?.compactMap(\.string)
            #expect(values == stride(from: node, to: 300, by: 3).map { "v\($0)" })
            try await direct.send("DEL", "h:{\(tag)}:list")
        }
    }

    @Test("60 callers at once over three nodes, as a worker's runners: each gets its own reply, every call runs once")
    func concurrentCallersGetTheirOwnReplies() async throws {
        let cluster = cluster()
        defer { cluster.close() }
        let tags = try (0..<3).map { try servers.tag(onNode: $0) }
        let prefix = TestRedis.uniquePrefix()
        _ = try await cluster.send((0..<3).map { RedisCommand("DEL", "\(prefix):{\(tags[$0])}:n") })
        // Each its own INCRBY, 20 a node, all made in one scheduling turn: their requests share the nodes' writes.
        let replies = try await TurnGate.concurrently(60) { index in
            try await cluster.send([RedisCommand("INCRBY", "\(prefix):{\(tags[index % 3])}:n", "1")])[0]
        }
        #expect(replies.compactMap(\.int).sorted() == (1...20).flatMap { [$0, $0, $0] })
        let totals = try await cluster.send((0..<3).map { RedisCommand("GET", "\(prefix):{\(tags[$0])}:n") })
        #expect(totals == Array(repeating: .bulk(Array("20".utf8)), count: 3))
        _ = try await cluster.send((0..<3).map { RedisCommand("DEL", "\(prefix):{\(tags[$0])}:n") })
    }

    @Test("a script or MULTI whose keys span slots is refused before it is sent, naming the keys")
    func crossSlotRefused() async throws {
        let cluster = cluster()
        defer { cluster.close() }
        let a = try servers.tag(onNode: 0), b = try servers.tag(onNode: 1)
        let transaction = [RedisCommand("MULTI"), RedisCommand("SET", "h:{\(a)}:x", "1"), RedisCommand("SET", "h:{\(b)}:x", "1"), RedisCommand("EXEC")]
        await #expect {
            try await cluster.sendTransaction(transaction, operation: "MULTI SET SET")
        } throws: { error in
            let crossSlot = error as? HashSlot.CrossSlot
            return crossSlot?.keys == ["h:{\(a)}:x", "h:{\(b)}:x"] && "\(error)".contains("h:{\(b)}:x")
        }
        await #expect(throws: HashSlot.CrossSlot.self) { try await cluster.send([RedisCommand("EVALSHA", "0000", "2", "h:{\(a)}:x", "h:{\(b)}:x")]) }
        // Nothing ran: neither key exists on its node.
        let replies = try await cluster.send([RedisCommand("EXISTS", "h:{\(a)}:x"), RedisCommand("EXISTS", "h:{\(b)}:x")])
        #expect(replies == [.integer(0), .integer(0)])
        // One slot: the transaction runs on its node.
        let one = [RedisCommand("MULTI"), RedisCommand("INCR", "h:{\(b)}:n"), RedisCommand("INCR", "h:{\(b)}:n"), RedisCommand("EXEC")]
        let (done, node) = try await cluster.sendTransaction(one, operation: "MULTI")
        #expect(node == servers.endpoints[1])
        #expect(done.last == .array([.integer(1), .integer(2)]))
        _ = try await cluster.send([RedisCommand("DEL", "h:{\(b)}:n")])
    }

    /// A pipeline that starts with a transaction and goes on after its `EXEC`: the transaction goes whole to its node,
    /// the rest after it, routed as any call, with every reply in order. (Such a batch reached a precondition and took
    /// the process down; before that, the whole batch went as one, and a redirection sent it again whole.)
    @Test("commands after a transaction's EXEC are sent after it, each to its node")
    func commandsAfterATransaction() async throws {
        let client = try RedisClient(url: servers.url)
        defer { client.close() }
        let a = try servers.tag(onNode: 0), b = try servers.tag(onNode: 2)
        let replies = try await client.pipeline([
            RedisCommand("MULTI"), RedisCommand("INCR", "h:{\(a)}:t"), RedisCommand("EXEC"),
            RedisCommand("INCR", "h:{\(b)}:after"), RedisCommand("GET", "h:{\(a)}:t"),
        ])
        #expect(replies == [.status("OK"), .status("QUEUED"), .array([.integer(1)]), .integer(1), .bulk(Array("1".utf8))], "\(replies)")
        _ = try await client.pipeline([RedisCommand("DEL", "h:{\(a)}:t"), RedisCommand("DEL", "h:{\(b)}:after")])
    }

    @Test("NOSCRIPT is per node: a node that forgot the script loads it and the call runs")
    func noScriptPerNode() async throws {
        let cluster = cluster()
        defer { cluster.close() }
        let source = "return redis.call('INCR', KEYS[1])"
        // Loaded through the router, as RedisClient.run loads a script (its one SHA cache): on one node, remembered.
        let sha = try #require(try await cluster.send([RedisCommand("SCRIPT", "LOAD", source)])[0].string)
        let tags = try (0..<3).map { try servers.tag(onNode: $0) }
        let calls = tags.map { RedisCommand("EVALSHA", sha, "1", "h:{\($0)}:n") }
        #expect(try await cluster.send(calls, scripts: [sha: source]) == [.integer(1), .integer(1), .integer(1)])
        ClusterServers.cli(port: servers.nodes[2].port, ["SCRIPT", "FLUSH"])
        #expect(try await cluster.send(calls, scripts: [sha: source]) == [.integer(2), .integer(2), .integer(2)])
        _ = try await cluster.send(tags.map { RedisCommand("DEL", "h:{\($0)}:n") })
    }

    @Test("MOVED after a slot moved: the command is resent to the new owner and the map is updated")
    func movedFollowed() async throws {
        let cluster = cluster()
        defer { cluster.close() }
        let tag = try servers.tag(onNode: 0, prefix: "moved")
        let slot = HashSlot.of(tag)
        _ = try await cluster.send([RedisCommand("SET", "h:{\(tag)}:k", "before")])
        servers.migrate(slot: slot, from: 0, to: 1)
        defer { servers.migrate(slot: slot, from: 1, to: 0) }
        let map = try await cluster.slotMap()
        #expect(map.primary(for: slot) == servers.endpoints[0], "the client's map is stale before the next command")
        #expect(try await cluster.send([RedisCommand("GET", "h:{\(tag)}:k")]) == [.bulk(Array("before".utf8))])
        #expect(try await cluster.slotMap().primary(for: slot) == servers.endpoints[1])
        _ = try await cluster.send([RedisCommand("DEL", "h:{\(tag)}:k")])
    }

    @Test("ASK during a migration: a key already moved is read on the target after ASKING; the map is not changed")
    func askFollowed() async throws {
        let cluster = cluster()
        defer { cluster.close() }
        let tag = try servers.tag(onNode: 0, prefix: "ask")
        let slot = HashSlot.of(tag)
        _ = try await cluster.send([RedisCommand("SET", "h:{\(tag)}:a", "A"), RedisCommand("SET", "h:{\(tag)}:b", "B")])
        _ = try await cluster.refresh()
        servers.beginMigration(slot: slot, from: 0, to: 2)
        ClusterServers.cli(port: servers.nodes[0].port, ["MIGRATE", "127.0.0.1", String(servers.nodes[2].port), "h:{\(tag)}:a", "0", "5000"])
        let replies = try await cluster.send([RedisCommand("GET", "h:{\(tag)}:a"), RedisCommand("GET", "h:{\(tag)}:b")])
        #expect(replies == [.bulk(Array("A".utf8)), .bulk(Array("B".utf8))])
        #expect(try await cluster.slotMap().primary(for: slot) == servers.endpoints[0])
        servers.moveKeys(slot: slot, from: 0, to: 2)
        servers.finishMigration(slot: slot, from: 0, to: 2)
        servers.migrate(slot: slot, from: 2, to: 0)
        _ = try await cluster.send([RedisCommand("DEL", "h:{\(tag)}:a", "h:{\(tag)}:b")])
    }

    /// A node that left the cluster (a replaced pod, a removed shard) kept its connection, thread and reconnects for
    /// the router's life. Here the node is a server outside the cluster the router was sent to by name (as `CLIENT
    /// UNBLOCK` is), so the next map never names it.
    @Test("a map refresh closes the connection to a node the map and the seeds no longer name; a call to it afterwards connects again")
    func connectionsToNodesThatLeftAreClosed() async throws {
        let cluster = cluster()
        defer { cluster.close() }
        let outside = try RedisServer()
        defer { outside.stop() }
        let probe = RedisClient(configuration: RedisConfiguration(endpoint: .tcp(host: "127.0.0.1", port: outside.port)))
        defer { probe.close() }
        func clients() async throws -> Int {
            let info = try await probe.send("INFO", "clients").string ?? ""
            let line = info.split(whereSeparator: \.isNewline).first { $0.hasPrefix("connected_clients:") }
            return Int(line?.split(separator: ":").last ?? "") ?? -1
        }
        let node = RedisConfiguration.Endpoint.tcp(host: "127.0.0.1", port: outside.port)
        #expect(try await cluster.send([RedisCommand("PING")], to: node) == [.status("PONG")])
        #expect(try await clients() == 2, "the probe and the router's connection")
        try await cluster.refresh()
        #expect(try await eventually { try await clients() == 1 }, "the refresh closed the connection to the node it does not name")
        #expect(try await cluster.send([RedisCommand("PING")], to: node) == [.status("PONG")])
        // The cluster's own nodes keep theirs; the outside node, called again, loses its new one.
        let tags = try (0..<3).map { try servers.tag(onNode: $0) }
        _ = try await cluster.send(tags.map { RedisCommand("GET", "h:{\($0)}:pruned") })
        let before = cluster.connectedNodes
        #expect(before.isSuperset(of: Set(servers.endpoints).union([node])))
        try await cluster.refresh()
        #expect(cluster.connectedNodes == before.subtracting([node]))
    }
}

/// Runs `count` tasks that all begin their work only once every one of them is queued, so that what they do
/// happens in one scheduling turn as a worker's runners resumed together do (not spread over the time it takes to
/// create them).
enum TurnGate {
    private final class Gate: Sendable {
        let open = Atomic<Bool>(false)
    }

    static func concurrently<T: Sendable>(_ count: Int, _ body: @escaping @Sendable (Int) async throws -> T) async throws -> [T] {
        let gate = Gate()
        return try await withThrowingTaskGroup(of: (Int, T).self) { group in
            for index in 0..<count {
                group.addTask {
                    while !gate.open.load(ordering: .acquiring) {}  // at most one waiter a pool thread; the rest are queued
                    return (index, try await body(index))
                }
            }
            gate.open.store(true, ordering: .releasing)
            var results = [T?](repeating: nil, count: count)
            for try await (index, result) in group { results[index] = result }
            return results.map { $0! }
        }
    }
}

import Foundation
import Redis
import TestSupport
import Testing

/// ``RedisClient`` made from a `redis-cluster://` URL: every entry point (send, pipeline, transaction, script,
/// script pipeline) works on keys spread over the three primaries of a real cluster.
@Suite(.serialized) struct ClusterClientTests {
    let servers: ClusterServers
    let redis: RedisClient

    init() throws {
        servers = try ClusterServers.shared()
        redis = try RedisClient(url: servers.url)
    }

    @Test("a redis-cluster:// client routes single commands and pipelines to every node")
    func sendAndPipeline() async throws {
        defer { redis.close() }
        #expect(redis.isCluster)
        let tags = try (0..<3).map { try servers.tag(onNode: $0) }
        for tag in tags { try await redis.send("SET", "h:{\(tag)}:k", tag) }
        let replies = try await redis.pipeline(tags.map { RedisCommand("GET", "h:{\($0)}:k") })
        #expect(replies.map(\.string) == tags)
        #expect(Set(try await redis.primaries()) == Set(servers.endpoints))
        _ = try await redis.pipeline(tags.map { RedisCommand("DEL", "h:{\($0)}:k") })
    }

    @Test("a transaction runs on its slot's node; one spanning slots is refused, naming its keys")
    func transaction() async throws {
        defer { redis.close() }
        let a = try servers.tag(onNode: 2), b = try servers.tag(onNode: 1)
        let results = try await redis.transaction([RedisCommand("INCR", "h:{\(a)}:n"), RedisCommand("INCRBY", "h:{\(a)}:n", "10")])
        #expect(results == [.integer(1), .integer(11)])
        await #expect {
            try await redis.transaction([RedisCommand("INCR", "h:{\(a)}:n"), RedisCommand("INCR", "h:{\(b)}:n")])
        } throws: { "\($0)".contains("h:{\(a)}:n") && "\($0)".contains("h:{\(b)}:n") }
        #expect(try await redis.send("GET", "h:{\(a)}:n").int == 11)
        try await redis.send("DEL", "h:{\(a)}:n")
    }

    @Test("scripts run on their keys' node; a node that lost its scripts (SCRIPT FLUSH) is given the script again")
    func scripts() async throws {
        defer { redis.close() }
        let script = RedisScript(name: "push", source: "return redis.call('RPUSH', KEYS[1], ARGV[1])")
        let tags = try (0..<3).map { try servers.tag(onNode: $0) }
        for tag in tags { #expect(try await redis.run(script, keys: ["h:{\(tag)}:l"], arguments: ["1"]) == .integer(1)) }
        for node in servers.nodes { ClusterServers.cli(port: node.port, ["SCRIPT", "FLUSH"]) }
        let replies = try await redis.pipeline(script, calls: tags.map { (keys: ["h:{\($0)}:l"], arguments: ["2"]) })
        #expect(replies == [.integer(2), .integer(2), .integer(2)])
        ClusterServers.cli(port: servers.nodes[1].port, ["SCRIPT", "FLUSH"])
        #expect(try await redis.run(script, keys: ["h:{\(tags[1])}:l"], arguments: ["3"]) == .integer(3))
        _ = try await redis.pipeline(tags.map { RedisCommand("DEL", "h:{\($0)}:l") })
    }

    /// A script's error names the node that ran it: the client's endpoint is the first seed, and an operator sent
    /// there looked at the wrong node (an outside review).
    @Test("a script's error names the node that ran it, not the first seed")
    func scriptErrorNamesItsNode() async throws {
        defer { redis.close() }
        let script = RedisScript(name: "refuses", source: "return redis.error_reply('ERR refused on purpose')")
        let tag = try servers.tag(onNode: 2), first = try servers.tag(onNode: 0)
        await #expect {
            try await redis.run(script, keys: ["h:{\(tag)}:s"])
        } throws: { error in
            let error = error as? RedisError
            return error?.code == .server && error?.message.contains("refused on purpose") == true
                && error?.endpoint == servers.endpoints[2].description && "\(error!)".contains(":\(servers.nodes[2].port)")
        }
        await #expect {
            try await redis.run(script, keys: ["h:{\(tag)}:s"], arguments: [], after: [RedisCommand("GET", "h:{\(first)}:s")])
        } throws: { error in
            (error as? RedisError)?.endpoint == servers.endpoints[2].description
        }
    }

    /// A script's first call goes to its keys' node only. `SCRIPT LOAD` has no key: sent first, it went to the first
    /// primary in the map, and one that hung without refusing (a partition, a frozen host) failed every script's first
    /// call on the healthy nodes too, for as long as it hung: a worker started then could neither renew its leases nor
    /// acknowledge, and its jobs ran twice.
    @Test("a script's first call on a healthy node succeeds while the map's first primary hangs")
    func scriptWhileFirstPrimaryHangs() async throws {
        defer { redis.close() }
        let own = try ClusterServers()
        let client = try RedisClient(url: own.url)
        defer { client.close() }
        let first = try #require(try await client.primaries().first)
        let frozen = try #require(own.nodes.firstIndex { RedisConfiguration.Endpoint.tcp(host: "127.0.0.1", port: $0.port) == first })
        let healthy = (frozen + 1) % own.primaryCount
        let tag = try own.tag(onNode: healthy)
        own.nodes[frozen].freeze()
        defer { own.nodes[frozen].thaw() }
        let script = RedisScript(name: "first-call", source: "return redis.call('INCR', KEYS[1]) -- \(UUID().uuidString)")
        #expect(try await client.run(script, keys: ["h:{\(tag)}:n"]) == .integer(1))
        let calls = [(keys: ["h:{\(tag)}:n"], arguments: [String]())]
        let batch = RedisScript(name: "first-batch", source: "return redis.call('INCR', KEYS[1]) -- \(UUID().uuidString)")
        #expect(try await client.pipeline(batch, calls: calls) == [.integer(2)])
    }

    /// A keyless command goes to the first primary not known to be down. A node that hangs without refusing times
    /// out rather than failing to connect; not counted as down, it kept taking every keyless command (and every
    /// map refresh first), each one costing the whole command timeout.
    @Test("after a node timed out, keyless commands go to the others")
    func timedOutNodeIsAvoided() async throws {
        defer { redis.close() }
        let own = try ClusterServers()
        let client = try RedisClient(url: own.url + "?timeout=1")
        defer { client.close() }
        let first = try #require(try await client.primaries().first)
        let frozen = try #require(own.nodes.firstIndex { RedisConfiguration.Endpoint.tcp(host: "127.0.0.1", port: $0.port) == first })
        let tag = try own.tag(onNode: frozen)
        own.nodes[frozen].freeze()
        defer { own.nodes[frozen].thaw() }
        await #expect(throws: RedisError.self) { try await client.send("GET", "h:{\(tag)}:k") }
        #expect(try await client.send("PING") == .status("PONG"))
    }

    /// A plain command's error named the first seed, whatever node refused it: an OOM on node C sent an operator to A.
    @Test("a command's or a transaction's error names the node that refused it, not the first seed")
    func anErrorNamesTheNodeThatRefused() async throws {
        defer { redis.close() }
        let refusing = 2
        let tag = try servers.tag(onNode: refusing)
        let node = RedisClient(configuration: RedisConfiguration(endpoint: servers.endpoints[refusing]))
        defer { node.close() }
        try await node.send("CONFIG", "SET", "maxmemory", "1")
        let write = await #expect(throws: RedisError.self) { try await redis.send("SET", "h:{\(tag)}:oom", "v") }
        let transaction = await #expect(throws: RedisError.self) { try await redis.transaction([RedisCommand("SET", "h:{\(tag)}:oom", "v")]) }
        _ = try? await node.send("CONFIG", "SET", "maxmemory", "0")
        #expect(write?.endpoint == servers.endpoints[refusing].description && write?.message.contains("OOM") == true, "\(String(describing: write))")
        #expect(transaction?.endpoint == servers.endpoints[refusing].description, "\(String(describing: transaction))")
    }

    @Test("a blocking read on a dedicated connection to the key's node")
    func dedicated() async throws {
        defer { redis.close() }
        let tag = try servers.tag(onNode: 1)
        let connection = try await redis.makeDedicatedConnection(forKey: "h:{\(tag)}:list")
        defer { connection.close() }
        #expect(connection.configuration.endpoint == servers.endpoints[1])
        var pop = RedisCommand("BLPOP", "h:{\(tag)}:list", "1")
        pop.blockingSeconds = 1
        let waiting = Task { try await connection.send([pop])[0] }
        try await Task.sleep(for: .milliseconds(50))
        try await redis.send("RPUSH", "h:{\(tag)}:list", "woke")
        #expect(try await waiting.value.array?.last?.string == "woke")
    }

    @Test("durable on a cluster: WAIT goes to the node that took the write; a node without replicas fails it as notReplicated, naming that node")
    func durableWaitsPerNode() async throws {
        defer { redis.close() }
        let durable = try RedisClient(url: servers.url + "?wait_replicas=1&wait_timeout_ms=50")
        defer { durable.close() }
        let tag = try servers.tag(onNode: 2)
        try await durable.send(RedisCommand("SET", "h:{\(tag)}:plain", "1"))
        await #expect {
            try await durable.send(RedisCommand("SET", "h:{\(tag)}:durable", "1"), durable: true)
        } throws: { error in
            let error = error as? RedisError
            return error?.code == .notReplicated && error?.endpoint == servers.endpoints[2].description
        }
        #expect(try await durable.send("GET", "h:{\(tag)}:durable").string == "1", "the write ran on its primary")
        _ = try await durable.pipeline([RedisCommand("DEL", "h:{\(tag)}:plain"), RedisCommand("DEL", "h:{\(tag)}:durable")])
    }

    /// Concurrent durable calls to one node share their WAIT, sent in the same request as the writes, as on one server
    /// (decision 0034). Each sent its own after its write, on the node's shared connection: while the node's replica
    /// was gone each blocked its timeout in turn, and a worker's lease renewals and heartbeats (on those connections on
    /// a cluster) waited behind all of them. Counted by the node's own `WAIT` calls, not timed.
    @Test("durable on a cluster: concurrent calls to a node share one WAIT sent with their writes")
    func concurrentDurableCallsShareTheirWait() async throws {
        defer { redis.close() }
        let durable = try RedisClient(url: servers.url + "?wait_replicas=1&wait_timeout_ms=1000")
        defer { durable.close() }
        let tag = try servers.tag(onNode: 2)
        let node = servers.endpoints[2]
        func waitCalls() async throws -> Int {
            let info = try await durable.send([RedisCommand("INFO", "commandstats")], to: node)[0].string ?? ""
            let line = info.split(whereSeparator: \.isNewline).first { $0.hasPrefix("cmdstat_wait:") } ?? ""
            return line.split(separator: ",").first.flatMap { Int($0.split(separator: "=").last ?? "") } ?? 0
        }
        let before = try await waitCalls()
        let refused = await withTaskGroup(of: Bool.self) { group in
            for n in 0..<12 {
                group.addTask {
                    do {
                        try await durable.send(RedisCommand("SET", "h:{\(tag)}:shared:\(n)", "1"), durable: true)
                        return false
                    } catch {
                        return (error as? RedisError)?.code == .notReplicated
                    }
                }
            }
            return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(refused == 12, "no replica: every call is notReplicated")
        let calls = try await waitCalls() - before
        #expect(calls >= 1 && calls <= 4, "12 calls sent \(calls) WAITs")
        _ = try await durable.pipeline((0..<12).map { RedisCommand("DEL", "h:{\(tag)}:shared:\($0)") })
    }
}

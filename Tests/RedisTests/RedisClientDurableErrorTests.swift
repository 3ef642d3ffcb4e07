import Foundation
import Redis
import Testing
import TestSupport

/// Durable calls whose `WAIT` counts too few replicas while the command itself answered an error: the error reply is
/// read first. A `NOSCRIPT` (a promoted primary has none of the scripts) is loaded and sent again, and a write the
/// server refused (`NOREPLICAS`) is that refusal, not "on the primary, too few replicas".
///
/// Each test has a server of its own, without a replica, so every `WAIT 1` counts 0: a `SCRIPT FLUSH` or a
/// `min-replicas-to-write` there touches no other test.
@Suite struct RedisClientDurableErrorTests {
    private static let increment = RedisScript(name: "durable-incr", source: "return redis.call('INCR', KEYS[1])")

    /// A client whose durable calls wait for 1 replica, 50 ms.
    private static func durableClient(_ server: RedisServer) throws -> RedisClient {
        var configuration = try RedisConfiguration(url: server.url)
        configuration.waitReplicas = 1
        configuration.waitTimeout = .milliseconds(50)
        return RedisClient(configuration: configuration)
    }

    /// The primary forgot the script (as a replica promoted in its place has never had it): the durable call loads it
    /// and runs it, then reports the replicas' shortfall. It threw `notReplicated` first, the script never run, and a
    /// worker's acknowledgement read as done on the primary: the job ran again after its lease.
    @Test func aForgottenScriptRunsBeforeTheReplicasVerdict() async throws {
        let server = try RedisServer()
        let redis = try Self.durableClient(server)
        defer { redis.close() }
        let plain = SentinelGroup.client(port: server.port)
        defer { plain.close() }

        _ = try? await redis.run(Self.increment, keys: ["n"], durable: true)  // loads it; 0 of 1 replicas
        #expect(try await plain.send("GET", "n").string == "1")

        _ = try await plain.send("SCRIPT", "FLUSH")
        let alone = await #expect(throws: RedisError.self) { try await redis.run(Self.increment, keys: ["n"], durable: true) }
        #expect(alone?.code == .notReplicated, "\(String(describing: alone))")
        #expect(try await plain.send("GET", "n").string == "2", "the script ran, loaded again")

        // With commands before it in the same round trip (an acknowledgement's history records).
        _ = try await plain.send("SCRIPT", "FLUSH")
        let after = await #expect(throws: RedisError.self) {
            try await redis.run(Self.increment, keys: ["n"], arguments: [], after: [RedisCommand("HSET", "records", "a", "1")], durable: true)
        }
        #expect(after?.code == .notReplicated, "\(String(describing: after))")
        #expect(try await plain.send("GET", "n").string == "3", "the script ran, loaded again")
        #expect(try await plain.send("HGET", "records", "a").string == "1")

        // Many calls in one pipeline (an enqueue batch).
        _ = try await plain.send("SCRIPT", "FLUSH")
        let batch = await #expect(throws: RedisError.self) {
            try await redis.pipeline(Self.increment, calls: [(keys: ["n"], arguments: []), (keys: ["m"], arguments: [])], durable: true)
        }
        #expect(batch?.code == .notReplicated, "\(String(describing: batch))")
        let counts = try await plain.pipeline([RedisCommand("GET", "n"), RedisCommand("GET", "m")]).map(\.string)
        #expect(counts == ["4", "1"], "both calls ran, loaded again")
    }

    /// A script that fails is its own error, not the `WAIT`'s: it said "the write reached the primary" for a call the
    /// script refused.
    @Test func aScriptErrorIsNotReportedAsNotReplicated() async throws {
        let server = try RedisServer()
        let redis = try Self.durableClient(server)
        defer { redis.close() }
        let refusing = RedisScript(name: "durable-refuse", source: "return redis.error_reply('ERR refused by the script')")
        let error = await #expect(throws: RedisError.self) { try await redis.run(refusing, keys: ["n"], durable: true) }
        #expect(error?.code == .server && error?.message.contains("refused by the script") == true, "\(String(describing: error))")
    }

    /// `min-replicas-to-write 1` and no replica (deploy/sentinel's setting, after a failover): the server refuses every
    /// write, `NOREPLICAS`, having written nothing. With `WAIT` it was reported as `notReplicated`, "the write reached
    /// the primary" (`hoopoe enqueue` exited 1 saying the job was on the primary); now it is the refusal itself, as
    /// without `WAIT`: a single command, a pipeline (its error replies in place) and a transaction.
    @Test func aWriteTheServerRefusedIsThatRefusal() async throws {
        let server = try RedisServer(arguments: ["--min-replicas-to-write", "1"])
        let redis = try Self.durableClient(server)
        defer { redis.close() }

        let single = await #expect(throws: RedisError.self) { try await redis.send(RedisCommand("XADD", "s", "*", "job", "{}"), durable: true) }
        #expect(single?.code == .server && single?.message.hasPrefix("NOREPLICAS") == true && single?.refusesWrites == true, "\(String(describing: single))")
        #expect(single?.outcomeUnknown == false, "nothing was written")

        let replies = try await redis.pipeline([RedisCommand("XADD", "s", "*", "job", "{}"), RedisCommand("SET", "k", "v")], durable: true)
        #expect(replies.allSatisfy { $0.errorMessage?.hasPrefix("NOREPLICAS") == true }, "\(replies)")

        let transaction = await #expect(throws: RedisError.self) { try await redis.transaction([RedisCommand("SET", "k", "v")], durable: true) }
        #expect(transaction?.code == .server && transaction?.message.contains("NOREPLICAS") == true, "\(String(describing: transaction))")

        let script = await #expect(throws: RedisError.self) { try await redis.run(Self.increment, keys: ["n"], durable: true) }
        #expect(script?.code == .server && script?.message.hasPrefix("NOREPLICAS") == true, "\(String(describing: script))")

        let plain = SentinelGroup.client(port: server.port)
        defer { plain.close() }
        #expect(try await plain.send("EXISTS", "s", "k", "n").int == 0, "nothing written")

        // A write that ran is still judged: the replicas' shortfall is thrown.
        _ = try await plain.send("CONFIG", "SET", "min-replicas-to-write", "0")
        let wrote = await #expect(throws: RedisError.self) { try await redis.send(RedisCommand("SET", "k", "v"), durable: true) }
        #expect(wrote?.code == .notReplicated, "\(String(describing: wrote))")
    }

    /// The same on a cluster: each node's `WAIT` counts the commands it ran, and a node whose commands were all refused
    /// (`NOREPLICAS`) is not judged; its refusal is the error. A cluster of its own: the setting refuses every write.
    @Test func onAClusterAWriteTheServerRefusedIsThatRefusal() async throws {
        let servers = try await offPool { try ClusterServers() }
        for node in servers.nodes { ClusterServers.cli(port: node.port, ["CONFIG", "SET", "min-replicas-to-write", "1"]) }
        var configuration = try RedisConfiguration(url: servers.url)
        configuration.waitReplicas = 1
        configuration.waitTimeout = .milliseconds(50)
        let redis = RedisClient(configuration: configuration)
        defer { redis.close() }

        let single = await #expect(throws: RedisError.self) { try await redis.send(RedisCommand("XADD", "{q}:s", "*", "job", "{}"), durable: true) }
        #expect(single?.code == .server && single?.message.hasPrefix("NOREPLICAS") == true, "\(String(describing: single))")
        let replies = try await redis.pipeline([RedisCommand("SET", "{a}:k", "v"), RedisCommand("SET", "{b}:k", "v")], durable: true)
        #expect(replies.allSatisfy { $0.errorMessage?.hasPrefix("NOREPLICAS") == true }, "\(replies)")
        let transaction = await #expect(throws: RedisError.self) { try await redis.transaction([RedisCommand("SET", "{q}:k", "v")], durable: true) }
        #expect(transaction?.code == .server && transaction?.message.contains("NOREPLICAS") == true, "\(String(describing: transaction))")
        let script = await #expect(throws: RedisError.self) { try await redis.run(Self.increment, keys: ["{q}:n"], durable: true) }
        #expect(script?.code == .server && script?.message.hasPrefix("NOREPLICAS") == true, "\(String(describing: script))")

        // Writes one node ran are judged, naming that node.
        for node in servers.nodes { ClusterServers.cli(port: node.port, ["CONFIG", "SET", "min-replicas-to-write", "0"]) }
        let wrote = await #expect(throws: RedisError.self) { try await redis.send(RedisCommand("SET", "{q}:k", "v"), durable: true) }
        #expect(wrote?.code == .notReplicated, "\(String(describing: wrote))")
    }
}

import Foundation
import Redis
import TestSupport
import Testing

/// A task that prefers a pooled connection's executor sends its calls on that connection (decision 0072), and a script
/// run on a dedicated connection needs nothing of the pool, whose threads such tasks may hold.
@Suite struct RedisClientConnectionExecutorsTests {
    /// Each pooled connection's task sees one `CLIENT ID`, its own; a task on the global pool is sent round the pool.
    @Test func aTaskOnAConnectionsThreadSendsOnThatConnection() async throws {
        let redis = try TestRedis.client(poolSize: 2)
        defer { redis.close() }
        #expect(redis.connectionExecutors.count == 2)
        var seen: [Set<Int>] = []
        for executor in redis.connectionExecutors {
            let ids = try await Task(executorPreference: executor) {
                var ids = Set<Int>()
                for _ in 0..<6 { ids.insert(try await redis.send("CLIENT", "ID").int ?? -1) }
                return ids
            }.value
            seen.append(ids)
        }
        #expect(seen.allSatisfy { $0.count == 1 }, "each task kept to its connection: \(seen)")
        #expect(seen[0] != seen[1], "each executor is its own connection's: \(seen)")
        var elsewhere = Set<Int>()
        for _ in 0..<6 { elsewhere.insert(try await redis.send("CLIENT", "ID").int ?? -1) }
        #expect(elsewhere == seen[0].union(seen[1]), "a task on the global pool uses both in turn")
    }

    /// Both pooled connections' threads blocked (a handler's synchronous call) for 2 s: a script on a dedicated
    /// connection still runs, loaded there after `SCRIPT FLUSH`, before they are free. Through the pool it would wait
    /// for them.
    @Test func aScriptOnADedicatedConnectionDoesNotWaitForThePoolsThreads() async throws {
        let server = try RedisServer()  // its own: `SCRIPT FLUSH` would make the other tests' scripts load again
        var configuration = try RedisConfiguration(url: server.url)
        configuration.poolSize = 2
        let redis = RedisClient(configuration: configuration)
        defer { redis.close() }
        let key = TestRedis.uniquePrefix()
        let script = RedisScript(name: "dedicated_incr", source: "return redis.call('INCR', KEYS[1]) -- \(key)")
        try await redis.run(script, keys: [key])  // its SHA known to the client; the flush below makes it NOSCRIPT
        try await redis.send("SCRIPT", "FLUSH")
        let dedicated = redis.makeDedicatedConnection(name: "test-dedicated")
        defer { dedicated.close() }
        let blocked = try await BlockedConnectionThreads.block(redis, forSeconds: 2)
        let reply = try await redis.run(script, keys: [key], arguments: [], on: dedicated)
        #expect(reply.int == 2)
        #expect(!blocked.anyFree, "the script waited for the blocked threads")
        await blocked.untilFree()
    }
}

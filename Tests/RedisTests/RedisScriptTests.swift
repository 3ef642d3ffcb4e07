import Redis
import TestSupport
import Testing

@Suite struct RedisScriptTests {
    @Test func scriptSurvivesScriptFlush() async throws {
        let redis = try TestRedis.client(poolSize: 1)
        defer { redis.close() }
        let key = TestRedis.uniquePrefix()
        let script = RedisScript(name: "add", source: "return redis.call('INCRBY', KEYS[1], ARGV[1])")
        #expect(try await redis.run(script, keys: [key], arguments: ["5"]) == .integer(5))
        try await redis.send("SCRIPT", "FLUSH")
        let exists = try await redis.send("SCRIPT", "EXISTS", "0000000000000000000000000000000000000000")
        #expect(exists == .array([.integer(0)]))
        // NOSCRIPT → SCRIPT LOAD → EVALSHA again, invisibly.
        #expect(try await redis.run(script, keys: [key], arguments: ["2"]) == .integer(7))
    }

    /// The client's SHA cache is keyed by the source (its hash computed once per script): scripts that share a name
    /// each run their own source, and the same source made twice runs as the same script.
    @Test func eachSourceRunsItsOwnScriptWhateverItsName() async throws {
        let redis = try TestRedis.client(poolSize: 1)
        defer { redis.close() }
        let one = RedisScript(name: "same", source: "return 1")
        let two = RedisScript(name: "same", source: "return 2")
        #expect(try await redis.run(one) == .integer(1))
        #expect(try await redis.run(two) == .integer(2))
        let again = RedisScript(name: "other", source: String(decoding: Array("return 2".utf8), as: UTF8.self))
        #expect(try await redis.run(again) == .integer(2))
        #expect(try await redis.run(one) == .integer(1))
    }

    @Test func scriptErrorNamesTheScript() async throws {
        let redis = try TestRedis.client()
        defer { redis.close() }
        let script = RedisScript(name: "broken", source: "return redis.call('NOSUCH')")
        await #expect {
            try await redis.run(script)
        } throws: { error in
            let error = error as? RedisError
            return error?.code == .server && error?.command == "EVALSHA broken"
        }
    }
}

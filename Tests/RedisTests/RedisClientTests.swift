import Redis
import TestSupport
import Testing

@Suite struct RedisClientTests {
    @Test func tenThousandPipelinedCommandsReturnInOrder() async throws {
        let redis = try TestRedis.client()
        defer { redis.close() }
        let key = TestRedis.uniquePrefix()
        let commands = (0..<10_000).map { i in
            i % 2 == 0 ? RedisCommand("ECHO", "m\(i)") : RedisCommand("RPUSH", key, "m\(i)")
        }
        let replies = try await redis.pipeline(commands)
        #expect(replies.count == 10_000)
        for (i, reply) in replies.enumerated() {
            if i % 2 == 0 {
                #expect(reply.string == "m\(i)")
            } else {
                #expect(reply == .integer(Int64(i / 2 + 1)))
            }
        }
        let list = try await redis.send("LRANGE", key, "0", "-1").array?.compactMap(\.string)
        #expect(list == stride(from: 1, to: 10_000, by: 2).map { "m\($0)" })
        try await redis.send("DEL", key)
    }

    @Test func hundredTasksOfThousandIncrements() async throws {
        let redis = try TestRedis.client(poolSize: 3)
        defer { redis.close() }
        let key = TestRedis.uniquePrefix()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<100 {
                group.addTask {
                    for _ in 0..<1_000 { try await redis.send("INCR", key) }
                }
            }
            try await group.waitForAll()
        }
        #expect(try await redis.send("GET", key).int == 100_000)
        try await redis.send("DEL", key)
    }

    @Test func errorReplyThrowsNamingCommandAndServer() async throws {
        let redis = try TestRedis.client()
        defer { redis.close() }
        let key = TestRedis.uniquePrefix()
        try await redis.send("SET", key, "text")
        do {
            try await redis.send("LPUSH", key, "x")
            Issue.record("LPUSH on a string must fail")
        } catch let error as RedisError {
            #expect(error.code == .server)
            #expect(error.command == "LPUSH")
            #expect(error.message.hasPrefix("WRONGTYPE"))
            #expect(error.description.contains(redis.configuration.endpoint.description))
        }
        // Durable with no replicas to wait for (`REDIS_WAIT_REPLICAS` 0) takes the same one-command path: the same error.
        do {
            try await redis.send(RedisCommand("LPUSH", key, "x"), durable: true)
            Issue.record("LPUSH on a string must fail")
        } catch let error as RedisError {
            #expect(error.code == .server && error.command == "LPUSH" && error.message.hasPrefix("WRONGTYPE"))
            #expect(error.description.contains(redis.configuration.endpoint.description))
        }
        #expect(try await redis.send(RedisCommand("GET", key), durable: true).string == "text")
        try await redis.send("DEL", key)
    }

    @Test func transactionIsAtomicAndReturnsExecReplies() async throws {
        let redis = try TestRedis.client()
        defer { redis.close() }
        let key = TestRedis.uniquePrefix()
        let results = try await redis.transaction([RedisCommand("INCR", key), RedisCommand("INCRBY", key, "10"), RedisCommand("GET", key)])
        #expect(results == [.integer(1), .integer(11), .bulk(Array("11".utf8))])
        await #expect(throws: RedisError.self) { try await redis.transaction([RedisCommand("INCR")]) }
    }

    @Test func blockingCommandOnDedicatedConnectionOutlivesTheCommandTimeout() async throws {
        var configuration = try RedisConfiguration(url: TestRedis.url())
        configuration.commandTimeout = .milliseconds(500)
        let redis = RedisClient(configuration: configuration)
        defer { redis.close() }
        let pusher = try RedisClient(url: TestRedis.url())  // default timeouts: its push is not what is tested
        defer { pusher.close() }
        let key = TestRedis.uniquePrefix()
        let dedicated = redis.makeDedicatedConnection()
        defer { dedicated.close() }
        var blpop = RedisCommand("BLPOP", key, "10")
        blpop.blockingSeconds = 10
        let waiting = Task { try await dedicated.send([blpop])[0] }
        // Pushed past the command timeout, so the BLPOP outlives it (if the loaded machine writes the BLPOP later
        // still, it finds the element at once: the test then proves less, but does not fail a correct client).
        try await Task.sleep(for: .seconds(1))
        try await pusher.send("RPUSH", key, "woke")
        #expect(try await waiting.value == .array([.bulk(Array(key.utf8)), .bulk(Array("woke".utf8))]))

        // Without the allowance, the same wait is a timeout, and says so.
        let impatient = redis.makeDedicatedConnection()
        defer { impatient.close() }
        await #expect {
            _ = try await impatient.send([RedisCommand("BLPOP", key, "1")])
        } throws: { error in
            (error as? RedisError)?.code == .timeout && (error as? RedisError)?.outcomeUnknown == true
        }
    }
}

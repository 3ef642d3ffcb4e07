import Redis

/// Measures the Redis client the way `redis-benchmark` measures the server, so the two print side by side.
enum RedisBenchmark {
    struct Result {
        let name: String
        let operations: Int
        let seconds: Double
        var perSecond: Double { Double(operations) / seconds }
    }

    /// - Parameters:
    ///   - url: the server.
    ///   - operations: commands per measurement.
    ///   - clients: concurrent tasks, as redis-benchmark's `-c` (50).
    static func run(url: String, operations: Int, clients: Int) async throws -> [Result] {
        let redis = try RedisClient(url: url)
        defer { redis.close() }
        try await redis.send("DEL", "bench:incr")
        var results: [Result] = []

        // One task, one command at a time: the pure round-trip cost.
        let sequential = operations / 10
        results.append(try await measure("round trips, 1 task", sequential) {
            for _ in 0..<sequential { try await redis.send("INCR", "bench:incr") }
        })

        // `clients` tasks, one command at a time each: redis-benchmark's unpipelined INCR test.
        // The client batches concurrent commands into shared round trips by itself.
        results.append(try await measure("INCR, \(clients) tasks", operations) {
            try await concurrently(clients) { share in
                for _ in 0..<share(operations) { try await redis.send("INCR", "bench:incr") }
            }
        })

        // Explicit pipelines of 16: redis-benchmark's `-P 16`.
        let incr = RedisCommand("INCR", "bench:incr")
        let pipeline = Array(repeating: incr, count: 16)
        results.append(try await measure("INCR, \(clients) tasks, pipelines of 16", operations) {
            try await concurrently(clients) { share in
                for _ in 0..<(share(operations) / 16) { _ = try await redis.pipeline(pipeline) }
            }
        })
        return results
    }

    private static func measure(_ name: String, _ operations: Int, _ body: () async throws -> Void) async throws -> Result {
        let clock = ContinuousClock()
        let start = clock.now
        try await body()
        let elapsed = clock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return Result(name: name, operations: operations, seconds: seconds)
    }

    private static func concurrently(_ tasks: Int, _ body: @escaping @Sendable (_ share: (Int) -> Int) async throws -> Void) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<tasks {
                group.addTask { try await body { $0 / tasks } }
            }
            try await group.waitForAll()
        }
    }
}

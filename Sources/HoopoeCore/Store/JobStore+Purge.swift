import Redis

extension JobStore {
    /// Deletes every job of `queue` — ready, delayed, dead — and its name from the known queues. For throw-away
    /// namespaces (benchmarks); no command of the CLI offers it.
    package func purge(queue: String) async throws {
        let k = keys(queue)
        _ = try await redis.pipeline([
            RedisCommand("DEL", k.stream, k.scheduled, k.scheduledJobs, k.dead, k.deadJobs), RedisCommand("SREM", global.queues, queue),
        ])
    }
}

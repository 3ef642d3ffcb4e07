import Redis

/// The keys the diagnostic jobs (``DiagIncrJob``, ``DiagRecordJob``) write, and the reads of the one that checks
/// them (the health check's canary): a caller-named `key` (a counter, or a set of members that ran) with
/// `<key>:count` (runs per member) and `<key>:attempt` (the last attempt per member) beside it.
struct DiagStore: Sendable {
    let redis: RedisClient

    /// `INCR key`: `diag.incr`'s whole work.
    func increment(_ key: String) async throws {
        try await redis.send("INCR", key)
    }

    /// Records that `member` ran, at `attempt`, in one round trip, the three keys expiring `ttlSeconds` later when
    /// given; the first error reply is returned.
    func record(key: String, member: String, attempt: Int, ttlSeconds: Int? = nil) async throws -> String? {
        var commands = [
            RedisCommand("SADD", key, member),
            RedisCommand("HINCRBY", key + ":count", member, "1"),
            RedisCommand("HSET", key + ":attempt", member, String(attempt)),
        ]
        if let ttlSeconds {
            for name in [key, key + ":count", key + ":attempt"] { commands.append(RedisCommand("EXPIRE", name, String(ttlSeconds))) }
        }
        let replies = try await redis.pipeline(commands)
        return replies.compactMap(\.errorMessage).first
    }

    /// Whether `member` ran.
    func hasRun(key: String, member: String) async throws -> Bool {
        try await redis.send("SISMEMBER", key, member).int == 1
    }

    /// Forgets `member` (errors ignored: the probe's answer is already known).
    func forget(key: String, member: String) async {
        _ = try? await redis.pipeline([
            RedisCommand("SREM", key, member), RedisCommand("HDEL", key + ":count", member), RedisCommand("HDEL", key + ":attempt", member),
        ])
    }
}

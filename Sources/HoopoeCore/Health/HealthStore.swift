import Redis

/// The health check's own keys (``HealthKeys``): the dead counts one run leaves for the next.
struct HealthStore: Sendable {
    let redis: RedisClient
    let keys: HealthKeys

    /// The previous run's dead counts per queue and when it saved them (nil: no run saved any).
    func deadBaseline() async throws -> (at: Double?, counts: [String: Int]) {
        let previous = try await redis.send("HGETALL", keys.dead).array ?? []
        var counts: [String: Int] = [:]
        var at: Double?
        for index in stride(from: 0, to: previous.count - 1, by: 2) {
            guard let field = previous[index].string else { continue }
            if field == "at" { at = previous[index + 1].double }
            if field.hasPrefix("queue:"), let count = previous[index + 1].int { counts[String(field.dropFirst(6))] = count }
        }
        return (at, counts)
    }

    /// Replaces the baseline with this run's counts, taken at `now`, kept `ttl` seconds (one transaction).
    func saveDeadBaseline(_ counts: [(queue: String, dead: Int)], now: Double, ttl: Int) async throws {
        var save = RedisCommand("HSET", keys.dead, "at", String(now))
        for count in counts {
            save.append("queue:\(count.queue)")
            save.append(String(count.dead))
        }
        _ = try await redis.transaction([RedisCommand("DEL", keys.dead), save, RedisCommand("EXPIRE", keys.dead, String(ttl))])
    }
}

import Redis

/// The health check's own keys (``HealthKeys``): the dead counts one run leaves for the next.
struct HealthStore: Sendable {
    let redis: RedisClient
    let keys: HealthKeys

    /// What one run of `dead_jobs` leaves for the next (``HealthKeys/dead``).
    struct DeadBaseline: Sendable {
        /// When it was saved (Unix seconds); nil: no run saved one.
        var at: Double?
        /// Each queue's dead set size then (`queue:<name>`): shown, and read by releases before the burial counts.
        var sizes: [String: Int] = [:]
        /// The UTC days whose burial counts ``burials`` holds (`death_days`, comma-separated); empty in a baseline of
        /// a release before them.
        var days: [String] = []
        /// Per queue, the jobs buried on each of ``days`` up to ``at`` (`deaths:<name>`, comma-separated, in the order of
        /// ``days``).
        var burials: [String: [Int]] = [:]
    }

    /// The previous run's baseline.
    func deadBaseline() async throws -> DeadBaseline {
        let previous = try await redis.send("HGETALL", keys.dead).array ?? []
        var baseline = DeadBaseline()
        var burials: [String: String] = [:]
        for index in stride(from: 0, to: previous.count - 1, by: 2) {
            guard let field = previous[index].string else { continue }
            let value = previous[index + 1]
            if field == "at" { baseline.at = value.double }
            if field == "death_days" {
                // At most the three a run writes: a hand-edited list does not make a run read a year of counters.
                baseline.days = (value.string ?? "").split(separator: ",").prefix(3).map(String.init)
            }
            if field.hasPrefix("queue:"), let count = value.int { baseline.sizes[String(field.dropFirst(6))] = count }
            if field.hasPrefix("deaths:"), let text = value.string { burials[String(field.dropFirst(7))] = text }
        }
        for (queue, text) in burials {
            let counts = text.split(separator: ",", omittingEmptySubsequences: false).map { Int($0) ?? 0 }
            baseline.burials[queue] = Array(counts.prefix(baseline.days.count))
        }
        return baseline
    }

    /// Replaces the baseline with this run's: dead set sizes and the burials counted on `days`, taken at `now`, kept
    /// `ttl` seconds (one transaction).
    func saveDeadBaseline(
        _ queues: [(queue: String, dead: Int, burials: [Int])], days: [String], now: Double, ttl: Int
    ) async throws {
        var save = RedisCommand("HSET", keys.dead, "at", String(now), "death_days", days.joined(separator: ","))
        for queue in queues {
            save.append("queue:\(queue.queue)")
            save.append(String(queue.dead))
            save.append("deaths:\(queue.queue)")
            save.append(queue.burials.map(String.init).joined(separator: ","))
        }
        _ = try await redis.transaction([RedisCommand("DEL", keys.dead), save, RedisCommand("EXPIRE", keys.dead, String(ttl))])
    }
}

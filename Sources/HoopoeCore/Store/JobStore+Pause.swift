import Redis

/// Pausing queues for every worker at once: one hash, ``GlobalKeys/paused`` (field = queue, value = when it was
/// paused). Workers read it about twice a second and stop fetching from the queues it names; nothing else about a
/// paused queue changes (its jobs stay ready, delayed jobs and retries still move to its stream). One key, so each
/// read is one command on a Redis Cluster too (decision 0029).
extension JobStore {
    /// Marks `queue` paused as of `time` (Unix seconds). One `HSETNX`.
    /// - Returns: false when it was paused already (the first pause's time is kept).
    func pause(queue: String, at time: Double) async throws -> Bool {
        try await redis.send(RedisCommand("HSETNX", global.paused, queue, String(time)), durable: true).int == 1
    }

    /// Clears `queue`'s pause. One `HDEL`.
    /// - Returns: false when it was not paused.
    func resume(queue: String) async throws -> Bool {
        try await redis.send(RedisCommand("HDEL", global.paused, queue), durable: true).int == 1
    }

    /// Every paused queue with the Unix time it was paused (0 when the stored time is not a number). One `HGETALL`.
    func pausedQueues() async throws -> [String: Double] {
        let items = try await redis.send("HGETALL", global.paused).array ?? []
        var result: [String: Double] = [:]
        for index in stride(from: 0, to: items.count - 1, by: 2) {
            guard let queue = items[index].string else { continue }
            result[queue] = Double(items[index + 1].string ?? "") ?? 0
        }
        return result
    }
}

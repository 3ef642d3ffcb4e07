import Redis

/// Pausing queues for every worker at once: one hash, ``GlobalKeys/paused`` (field = queue, value = when it was
/// paused). Workers read it about twice a second and stop fetching from the queues it names; nothing else about a
/// paused queue changes (its jobs stay ready, delayed jobs and retries still move to its stream). One key, so each
/// read is one command on a Redis Cluster too (decision 0029).
extension JobStore {
    /// Marks `queue` paused as of Redis's clock (`TIME`, then one `HSETNX`).
    ///
    /// Redis's clock, not the pausing host's: a clear reads how long ago the pause was (``pausedFor(queue:)``) to wait
    /// out the workers' hand-backs, and with the pauser's clock 3 s behind the clearer's it found the window gone and
    /// read the stream before the hand-backs came, which then ran on `resume`.
    /// - Returns: false when it was paused already (the first pause's time is kept).
    func pause(queue: String) async throws -> Bool {
        let time = try await redis.serverTime()
        return try await redis.send(RedisCommand("HSETNX", global.paused, queue, String(time)), durable: true).int == 1
    }

    /// How long ago `queue` was paused, by Redis's clock (seconds, at least 0); nil when it is not paused. One round trip.
    func pausedFor(queue: String) async throws -> Double? {
        let replies = try await redis.pipeline([RedisCommand("HGET", global.paused, queue), RedisCommand("TIME")])
        if let message = replies.lazy.compactMap(\.errorMessage).first { throw RedisError.reply(message, endpoint: endpoint, command: "HGET") }
        guard let text = replies[0].string else { return nil }
        return max(0, try RedisClient.seconds(ofTime: replies[1], endpoint: endpoint) - (Double(text) ?? 0))
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

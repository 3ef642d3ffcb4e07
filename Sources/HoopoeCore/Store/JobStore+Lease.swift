import Redis

extension JobStore {
    /// Renews the lease of `consumer`'s deliveries `ids` of `queue` (`XCLAIM` to itself with min-idle 0 resets
    /// their idle time), at most 1000 ids a command.
    func renewLeases(queue: String, ids: [String], consumer: String) async throws {
        for chunk in stride(from: 0, to: ids.count, by: 1000) {
            var command = RedisCommand("XCLAIM", keys(queue).stream, QueueKeys.group, consumer, "0")
            command.append(contentsOf: ids[chunk..<min(ids.count, chunk + 1000)])
            command.append("JUSTID")
            try await redis.send(command)
        }
    }
}

import Redis

/// The consumer group's consumers: one a worker process (its consumer name is `host:pid:random`, new at every start).
///
/// Redis keeps a consumer until it is deleted, with its name and times (~280 B), so every start of every worker added
/// one to each queue it took a job from, for as long as the queue exists: every deploy, crash and OOM kill. A worker
/// starting deletes the consumers that hold no delivery and have been idle for ``WorkerOptions/consumerIdleLimit``:
/// those of stopped or killed workers, their deliveries recovered or handed back. A live worker's consumer that is
/// deleted (idle that long, holding nothing) is made again by its next delivery: nothing depends on it existing.
extension JobStore {
    static let pruneConsumersScript = RedisScript(name: "prune-consumers", embedded: PackageResources.prune_consumers_lua)

    /// Deletes `queue`'s consumers that hold no delivery and have been idle for `idle`; returns how many went, or nil
    /// when Redis refused to list them (an ACL without `XINFO`).
    /// KEYS[1] stream · ARGV[1] group · ARGV[2] idle (ms)
    func pruneIdleConsumers(queue: String, idle: Duration) async throws -> Int? {
        let milliseconds = idle.components.seconds * 1000 + idle.components.attoseconds / 1_000_000_000_000_000
        let reply = try await redis.run(Self.pruneConsumersScript, keys: [keys(queue).stream], arguments: [QueueKeys.group, String(milliseconds)])
        guard let deleted = reply.int, deleted >= 0 else { return nil }
        return deleted
    }
}

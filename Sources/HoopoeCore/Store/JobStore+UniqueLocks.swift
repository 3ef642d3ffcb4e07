import Redis

extension JobStore {
    /// The ids of the jobs holding the unique locks of `uniqueKeys` in `queue`, nil for a lock no job holds: one `MGET`
    /// (the locks carry the queue's hash tag, so they share one Redis Cluster slot).
    ///
    /// Why: a batch retry of dead jobs (``JobQueue/retryDead(ids:queue:)``) counts what it skipped, not why; the
    /// dashboard says why, and counted every skipped job with a unique key as "its unique key held by another job",
    /// held or not (one too large to run again, or dead again since it was read). Read only for those.
    package func uniqueLockHolders(_ uniqueKeys: [String], queue: String) async throws -> [String?] {
        if uniqueKeys.isEmpty { return [] }
        let k = keys(queue)
        let replies = try await redis.send(RedisCommand("MGET", uniqueKeys.map { k.unique($0) })).array ?? []
        return uniqueKeys.indices.map { $0 < replies.count ? replies[$0].string : nil }
    }
}

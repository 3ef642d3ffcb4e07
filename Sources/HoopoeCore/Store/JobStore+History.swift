import Redis

/// Job history's read side: the finished jobs each queue keeps (``QueueKeys/history``, ``QueueKeys/historyJobs``).
///
/// The writes are in the settle scripts (acknowledge, kill), in the queue's slot and the settle's own round trip:
/// a record is added in the same step that finishes the job, and the history trimmed by age and count when it is
/// past its caps by the slack ``JobStore/HistoryLimits`` describes (so a reader may see up to 1 % more than the cap).
extension JobStore {
    /// The record of finished job `id` in `queue`, if history still holds it (one `HGET`).
    package func historyRecord(id: String, queue: String) async throws -> HistoryRecord? {
        guard let bytes = try await redis.send("HGET", keys(queue).historyJobs, id).bytes else { return nil }
        return HistoryRecord.decode(bytes)
    }

    /// Finished jobs of `queue`, most recently finished first, from the `offset`-th: one `ZREVRANGE` and one `HMGET`
    /// (a record that cannot be read is left out).
    package func historyRecords(queue: String, offset: Int, limit: Int) async throws -> [HistoryRecord] {
        guard limit > 0 else { return [] }
        let k = keys(queue)
        let ids = (try await redis.send("ZREVRANGE", k.history, String(offset), String(offset + limit - 1)).array ?? []).compactMap(\.string)
        if ids.isEmpty { return [] }
        let bodies = try await redis.send(RedisCommand("HMGET", [k.historyJobs] + ids)).array ?? []
        return bodies.compactMap { $0.bytes.flatMap(HistoryRecord.decode) }
    }

    /// How many finished jobs `queue`'s history holds (one `ZCARD`).
    package func historyCount(queue: String) async throws -> Int {
        try await redis.send("ZCARD", keys(queue).history).int ?? 0
    }
}

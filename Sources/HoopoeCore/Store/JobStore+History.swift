import Redis

/// Job history: the finished jobs each queue keeps (``QueueKeys/historyIDs``, ``QueueKeys/historyJobs``).
///
/// The writes are in the settle scripts (kill, the cancels) and, for an acknowledgement, an `HSET` sent just before its
/// script (decision 0062), in the queue's slot and the settle's own round trip: a record is added with the step that
/// finishes the job (for the acknowledgement, one command before it), and the history trimmed by age and count
/// when it is past its caps by the slack ``JobStore/HistoryLimits`` describes (so a reader may see up to 1 % more
/// than the cap). Their rules are in one file, history.lua, that ``historyScript(name:embedded:)`` puts before each
/// of those scripts (decision 0033).
extension JobStore {
    /// A script that adds history records: history.lua's functions (`history_add`, `history_trim`), then the
    /// script's own text, so every writer follows one layout.
    static func historyScript(name: String, embedded bytes: [UInt8]) -> RedisScript {
        RedisScript(name: name, embedded: PackageResources.history_lua + bytes)
    }

    /// The record of finished job `id` in `queue`, if history still holds it (one `HGET`).
    package func historyRecord(id: String, queue: String) async throws -> HistoryRecord? {
        guard let bytes = try await redis.send("HGET", keys(queue).historyJobs, id).bytes else { return nil }
        return HistoryRecord.decode(bytes)
    }

    /// Finished jobs of `queue`, most recently finished first, from the `offset`-th (a record that cannot be read is
    /// left out).
    package func historyRecords(queue: String, offset: Int, limit: Int) async throws -> [HistoryRecord] {
        try await historyPage(queue: queue, offset: offset, limit: limit).compactMap { HistoryRecord.decode($0.text) }
    }

    /// How many finished jobs `queue`'s history holds (one `LLEN`, and the legacy set's `ZCARD`, in one pipeline).
    package func historyCount(queue: String) async throws -> Int {
        let k = keys(queue)
        let replies = try await redis.pipeline([RedisCommand("LLEN", k.historyIDs), RedisCommand("ZCARD", k.legacyHistory)])
        return replies.reduce(0) { $0 + ($1.int ?? 0) }
    }

    /// Finished jobs of `queue`, most recently finished first, from the `offset`-th, as stored (undecoded): one
    /// `LRANGE` (with the legacy set's `ZREVRANGE` in its pipeline) and one `HMGET`; ids without a record are left out.
    ///
    /// While the sorted set of a release before decision 0033 still holds records (a rolling upgrade, and until its
    /// records age out), both orders are read from the top and merged by finish time, so a page shows the jobs older
    /// workers finished too.
    func historyPage(queue: String, offset: Int, limit: Int) async throws -> [(id: String, text: [UInt8])] {
        guard limit > 0 else { return [] }
        let k = keys(queue)
        let end = Self.rangeStop(offset: offset, limit: limit)
        let replies = try await redis.pipeline([
            RedisCommand("LRANGE", k.historyIDs, String(offset), end), RedisCommand("ZREVRANGE", k.legacyHistory, "0", end, "WITHSCORES"),
        ])
        let (legacyIDs, legacyTimes) = Self.membersAndScores(replies[1].array ?? [])
        if legacyIDs.isEmpty { return try await records(of: (replies[0].array ?? []).compactMap(\.string), k) }
        let listed = offset == 0 ? replies[0] : try await redis.send("LRANGE", k.historyIDs, "0", end)
        let newer = try await records(of: (listed.array ?? []).compactMap(\.string), k)
        let older = try await records(of: legacyIDs, k)
        let times = Dictionary(zip(legacyIDs, legacyTimes), uniquingKeysWith: { first, _ in first })
        var seen = Set<String>()
        let merged = (newer.map { ($0, HistoryRecord.decode($0.text)?.finishedAt ?? 0) } + older.map { ($0, times[$0.id] ?? 0) })
            .sorted { $0.1 > $1.1 }
            .map(\.0)
            .filter { seen.insert($0.id).inserted }
        return Array(merged.dropFirst(offset).prefix(limit))
    }

    /// The ids of `queue`'s `limit` most recently finished jobs in the list, and in the legacy set those not in the
    /// list (``historyPage(queue:offset:limit:)`` says why there are two; the second is nearly always empty), without
    /// their records: for a read that bounds their records' bytes (the dashboard's search), which merges the two by
    /// finish time itself.
    func historyIDs(queue: String, limit: Int) async throws -> (listed: [String], legacy: [String]) {
        guard limit > 0 else { return ([], []) }
        let k = keys(queue)
        let replies = try await redis.pipeline([
            RedisCommand("LRANGE", k.historyIDs, "0", String(limit - 1)), RedisCommand("ZREVRANGE", k.legacyHistory, "0", String(limit - 1)),
        ])
        let listed = (replies[0].array ?? []).compactMap(\.string)
        let known = Set(listed)
        return (listed, (replies[1].array ?? []).compactMap(\.string).filter { !known.contains($0) })
    }

    /// The records of `ids` in order (one `HMGET`), without the ids that have none.
    private func records(of ids: [String], _ k: QueueKeys) async throws -> [(id: String, text: [UInt8])] {
        if ids.isEmpty { return [] }
        let texts = try await redis.send(RedisCommand("HMGET", [k.historyJobs] + ids)).array ?? []
        return ids.indices.compactMap { position in
            guard position < texts.count, let bytes = texts[position].bytes else { return nil }
            return (ids[position], bytes)
        }
    }
}

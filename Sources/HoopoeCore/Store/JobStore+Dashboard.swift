import Redis

/// A scheduled job (a delayed job or a retry) as the dashboard lists it.
package struct ScheduledEntry: Sendable {
    /// The job id (the sorted set's member).
    package let id: String
    /// When it is due, Unix seconds (the member's score).
    package let dueAt: Double
    /// Its envelope; nil when the stored text is missing or not an envelope.
    package let envelope: JobEnvelope?
}

/// A dead job as the dashboard lists it.
package struct DeadEntry: Sendable {
    /// The job id (the sorted set's member).
    package let id: String
    /// When it died, Unix seconds (the member's score).
    package let diedAt: Double
    /// Its envelope; nil when the stored text is missing or not an envelope.
    package let envelope: JobEnvelope?
    /// The size of its stored text in bytes (0 when missing): what reading it cost.
    package var size: Int = 0
}

/// A stream entry delivered to a worker and not yet acknowledged: a running (or prefetched) job.
package struct HeldEntry: Sendable {
    /// The stream entry id.
    package let entryID: String
    /// The worker consumer holding it.
    package let consumer: String
    /// Seconds since it was delivered (or its lease last renewed: renewal claims it again).
    package let idleSeconds: Double
    /// How many times the entry has been delivered.
    package let deliveries: Int
    /// Its envelope; nil when the entry is gone or not an envelope.
    package let envelope: JobEnvelope?
}

/// Read-only pages of a queue's sets and stream, for the dashboard: each call reads at most `limit` members
/// (ZRANGE/XPENDING with a count, then one HMGET or pipeline), so a page costs the same on a backlog of 100 or of
/// 100,000 jobs. Nothing here writes.
extension JobStore {
    /// Scheduled jobs, soonest due first, from the `offset`-th.
    package func scheduledEntries(queue: String, offset: Int, limit: Int) async throws -> [ScheduledEntry] {
        let k = keys(queue)
        let pairs = try await redis.send("ZRANGE", k.scheduled, String(offset), Self.rangeStop(offset: offset, limit: limit), "WITHSCORES").array ?? []
        let (ids, scores) = Self.membersAndScores(pairs)
        if ids.isEmpty { return [] }
        let bodies = try await redis.send(RedisCommand("HMGET", [k.scheduledJobs] + ids)).array ?? []
        return ids.indices.map { index in
            ScheduledEntry(id: ids[index], dueAt: scores[index], envelope: Self.envelope(bodies, at: index))
        }
    }

    /// Dead jobs, newest first, from the `offset`-th newest (entries whose text is not an envelope are kept, with a
    /// nil envelope, so offsets stay positions in the set). At most `byteBudget` bytes of their text are read
    /// (``boundedTexts(_:_:budget:)``): fewer than `limit` entries come back when the budget ends first, at least one.
    package func deadEntries(queue: String, offset: Int, limit: Int, byteBudget: Int = .max) async throws -> [DeadEntry] {
        let k = keys(queue)
        let pairs = try await redis.send("ZREVRANGE", k.dead, String(offset), Self.rangeStop(offset: offset, limit: limit), "WITHSCORES").array ?? []
        let (ids, scores) = Self.membersAndScores(pairs)
        if ids.isEmpty { return [] }
        let bodies = try await boundedTexts(k.deadJobs, ids, budget: byteBudget)
        return bodies.indices.map { index in
            DeadEntry(id: ids[index], diedAt: scores[index], envelope: Self.envelope(bodies, at: index), size: bodies[index].bytes?.count ?? 0)
        }
    }

    /// The stored texts of `ids` in hash `hash`, in order, as far as `budget` bytes reach — at least the first, so a
    /// reader always moves on: one pipelined `HSTRLEN` each, then one `HMGET` of those that fit. Fewer replies than
    /// ids when the budget ended first (a missing text is a nil reply and costs nothing).
    ///
    /// Why: a dashboard page reads up to thousands of envelopes, and a plain `XADD` may write one of 512 KiB; bounded
    /// by count alone, a page could pull gigabytes through the dashboard's memory.
    package func boundedTexts(_ hash: String, _ ids: [String], budget: Int) async throws -> [RedisReply] {
        if ids.isEmpty { return [] }
        var take = ids.count
        if budget < Int.max {
            let sizes = try await redis.pipeline(ids.map { RedisCommand("HSTRLEN", hash, $0) })
            // An error reply is not a size of 0: the budget would read every text (and the ACL's refusal go unsaid).
            if let message = sizes.lazy.compactMap(\.errorMessage).first { throw RedisError.reply(message, endpoint: endpoint, command: "HSTRLEN") }
            var total = 0
            for (index, size) in sizes.enumerated() {
                total += max(0, size.int ?? 0)
                if total > budget && index > 0 {
                    take = index
                    break
                }
            }
        }
        return try await redis.send(RedisCommand("HMGET", [hash] + ids.prefix(take))).array ?? []
    }

    /// How many jobs the dead set of `queue` holds (one `ZCARD`).
    package func deadCount(queue: String) async throws -> Int {
        try await redis.send("ZCARD", keys(queue).dead).int ?? 0
    }

    /// Up to `limit` entries workers hold in `queue`'s stream (`XPENDING` with a count), oldest delivery first, with
    /// their envelopes (one pipelined `XRANGE` per entry). Empty before any worker created the consumer group
    /// (`NOGROUP`); any other error reply is thrown (a `NOPERM` as ``RedisError/Code/permissionDenied``, which the page
    /// names): read as no rows, a dashboard whose ACL user lacked `XPENDING` said "No job is held by a worker" while
    /// workers held 60. A `WRONGTYPE` names the queue and its stream key (``refuseFailedReplies(_:commands:endpoint:keys:queue:)``),
    /// as `hoopoe queues` does: Redis names neither.
    package func heldEntries(queue: String, limit: Int) async throws -> [HeldEntry] {
        let k = keys(queue)
        let pending = try await redis.pipeline([RedisCommand("XPENDING", k.stream, QueueKeys.group, "-", "+", String(limit))])[0]
        try Self.refuseFailedReplies([pending], commands: ["XPENDING"], endpoint: endpoint, keys: [k.stream], queue: queue)
        let rows: [(String, String, Double, Int)] = (pending.array ?? []).compactMap { row in
            guard let fields = row.array, fields.count >= 4, let entryID = fields[0].string, let consumer = fields[1].string else { return nil }
            return (entryID, consumer, Double(fields[2].int ?? 0) / 1000, fields[3].int ?? 0)
        }
        if rows.isEmpty { return [] }
        let entries = try await redis.pipeline(rows.map { RedisCommand("XRANGE", k.stream, $0.0, $0.0) })
        if let message = entries.lazy.compactMap(\.errorMessage).first { throw RedisError.reply(message, endpoint: endpoint, command: "XRANGE") }
        return zip(rows, entries).map { row, entry in
            let bytes = entry.array?.first?.array?.last.map { Self.jobField($0) }  // the `job` field, as the worker reads it
            return HeldEntry(
                entryID: row.0, consumer: row.1, idleSeconds: row.2, deliveries: row.3, envelope: bytes.flatMap { try? JobEnvelope.decode($0) })
        }
    }

    /// A `WITHSCORES` reply as members and their scores (a score Redis sent as text is parsed).
    /// The last index of a range of `limit` members from `offset` (`ZRANGE`'s and `LRANGE`'s `stop`), saturating: an
    /// offset from a request (`?offset=9223372036854775807`) must not trap the process in `offset + limit - 1`.
    static func rangeStop(offset: Int, limit: Int) -> String {
        let (stop, overflow) = offset.addingReportingOverflow(limit - 1)
        return String(overflow ? Int.max : stop)
    }

    static func membersAndScores(_ pairs: [RedisReply]) -> ([String], [Double]) {
        var ids: [String] = []
        var scores: [Double] = []
        for index in stride(from: 0, to: pairs.count - 1, by: 2) {
            guard let id = pairs[index].string else { continue }
            ids.append(id)
            scores.append(pairs[index + 1].double ?? Double(pairs[index + 1].string ?? "") ?? 0)
        }
        return (ids, scores)
    }

    private static func envelope(_ bodies: [RedisReply], at index: Int) -> JobEnvelope? {
        guard index < bodies.count, let bytes = bodies[index].bytes else { return nil }
        return try? JobEnvelope.decode(bytes)
    }
}

import Redis

/// Where a walk through the dead set stands: the last job it visited, by the set's own order (its score, the time of
/// death, then its id's bytes).
///
/// Why not an offset: a walk that counted its way along (`ZRANGEBYSCORE … LIMIT offset`, until session 51) skipped
/// jobs whenever others left the front of the set meanwhile — the trims of every burial and of the upkeep remove the
/// oldest — and said it had finished: a "retry all matching" over 500 jobs that did not match and 100 that did, with
/// the 500 trimmed after its first batch, retried none (a review found it). A position named by a job does not move.
package struct DeadCursor: Sendable, Equatable {
    package let diedAt: Double
    package let id: String

    package init(diedAt: Double, id: String) {
        self.diedAt = diedAt
        self.id = id
    }

    /// Whether the member `member` with score `score` comes after this position in the set's order.
    func precedes(diedAt score: Double, id member: String) -> Bool {
        score > diedAt || (score == diedAt && id.utf8.lexicographicallyPrecedes(member.utf8))
    }
}

extension JobStore {
    /// Dead jobs after `cursor` (from the start when nil) that died at or before `diedUpTo`, oldest first, at most
    /// `limit`, with their envelopes: those sharing the cursor's time of death and after it by id, then the later ones
    /// (two `ZRANGEBYSCORE` in one round trip), then one `HMGET` (none when `envelopes` is false: the entries then have
    /// none). The next call takes the last one's position.
    package func deadEntries(
        queue: String, diedUpTo: Double, after cursor: DeadCursor?, limit: Int, envelopes: Bool = true
    ) async throws -> [DeadEntry] {
        let k = keys(queue)
        var ids: [String] = []
        var scores: [Double] = []
        if let cursor {
            let replies = try await redis.pipeline([
                // Deaths at the very same time are few (a score is a time to the microsecond); bounded all the same.
                RedisCommand("ZRANGEBYSCORE", k.dead, String(cursor.diedAt), String(cursor.diedAt), "WITHSCORES", "LIMIT", "0", "10000"),
                RedisCommand("ZRANGEBYSCORE", k.dead, "(" + String(cursor.diedAt), String(diedUpTo), "WITHSCORES", "LIMIT", "0", String(limit)),
            ])
            if let message = replies.lazy.compactMap(\.errorMessage).first { throw RedisError.reply(message, endpoint: endpoint, command: "ZRANGEBYSCORE") }
            for reply in replies {
                let (members, memberScores) = Self.membersAndScores(reply.array ?? [])
                for (id, score) in zip(members, memberScores) where cursor.precedes(diedAt: score, id: id) && score <= diedUpTo {
                    ids.append(id)
                    scores.append(score)
                }
            }
        } else {
            let pairs = try await redis.send("ZRANGEBYSCORE", k.dead, "-inf", String(diedUpTo), "WITHSCORES", "LIMIT", "0", String(limit)).array ?? []
            (ids, scores) = Self.membersAndScores(pairs)
        }
        if ids.count > limit {
            ids.removeLast(ids.count - limit)
            scores.removeLast(scores.count - limit)
        }
        if ids.isEmpty { return [] }
        guard envelopes else { return ids.indices.map { DeadEntry(id: ids[$0], diedAt: scores[$0], envelope: nil) } }
        let bodies = try await redis.send(RedisCommand("HMGET", [k.deadJobs] + ids)).array ?? []
        return ids.indices.map { index in
            let envelope = index < bodies.count ? bodies[index].bytes.flatMap { try? JobEnvelope.decode($0) } : nil
            return DeadEntry(id: ids[index], diedAt: scores[index], envelope: envelope)
        }
    }
}

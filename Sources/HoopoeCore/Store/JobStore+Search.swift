import Redis

/// A job the search looked at: where it is, its envelope, and its history record when it finished.
package struct RecentJob: Sendable {
    /// Where the job was found.
    package enum Place: String, Sendable {
        case finished
        /// In the stream: waiting, or held by a worker (the search does not ask which).
        case stream = "ready or running"
        case scheduled
        case dead
    }

    package let place: Place
    package let envelope: JobEnvelope
    /// The history record, for a finished job.
    package let record: HistoryRecord?
    /// When it finished, is due, or died; nil for a job in the stream.
    package let at: Double?
}

/// The recent jobs of a queue, for the dashboard's search: a bounded read of each place a job can be.
extension JobStore {
    /// Up to `limit` jobs from each of `queue`'s history (most recently finished), stream (newest), scheduled set
    /// (soonest due) and dead set (newest): ``historyPage(queue:offset:limit:)``, one `ZREVRANGE`+`HMGET` or
    /// `ZRANGE`+`HMGET` per set and one `XREVRANGE`. Whatever the backlog, at most 4 × `limit` jobs are read; only those whose stored text contains
    /// every one of `needles` (a cheap test that a filter may match) are decoded.
    package func recentJobs(queue: String, limit: Int, needles: [[UInt8]] = []) async throws -> [RecentJob] {
        let k = keys(queue)
        func wanted(_ bytes: [UInt8]) -> Bool { needles.allSatisfy { bytes.containsBytes($0) } }
        var found: [RecentJob] = []
        for (id, bytes) in try await historyPage(queue: queue, offset: 0, limit: limit) where wanted(bytes) {
            guard let record = HistoryRecord.decode(bytes), record.id == id, let envelope = record.envelope else { continue }
            found.append(RecentJob(place: .finished, envelope: envelope, record: record, at: record.finishedAt))
        }
        for entry in try await redis.send("XREVRANGE", k.stream, "+", "-", "COUNT", String(limit)).array ?? [] {
            guard let bytes = entry.array?.last?.array?.last?.bytes, wanted(bytes), let envelope = try? JobEnvelope.decode(bytes) else { continue }
            found.append(RecentJob(place: .stream, envelope: envelope, record: nil, at: nil))
        }
        for (_, due, bytes) in try await page(k.scheduled, k.scheduledJobs, newest: false, limit: limit) where wanted(bytes) {
            guard let envelope = try? JobEnvelope.decode(bytes) else { continue }
            found.append(RecentJob(place: .scheduled, envelope: envelope, record: nil, at: due))
        }
        for (_, died, bytes) in try await page(k.dead, k.deadJobs, newest: true, limit: limit) where wanted(bytes) {
            guard let envelope = try? JobEnvelope.decode(bytes) else { continue }
            found.append(RecentJob(place: .dead, envelope: envelope, record: nil, at: died))
        }
        return found
    }

    /// The first `limit` members of sorted set `index` (highest scores first when `newest`) with their scores and
    /// their text in hash `bodies`, undecoded; members without text are left out.
    private func page(_ index: String, _ bodies: String, newest: Bool, limit: Int) async throws -> [(String, Double, [UInt8])] {
        let pairs = try await redis.send(newest ? "ZREVRANGE" : "ZRANGE", index, "0", String(limit - 1), "WITHSCORES").array ?? []
        let (ids, scores) = Self.membersAndScores(pairs)
        if ids.isEmpty { return [] }
        let texts = try await redis.send(RedisCommand("HMGET", [bodies] + ids)).array ?? []
        return ids.indices.compactMap { position in
            guard position < texts.count, let bytes = texts[position].bytes else { return nil }
            return (ids[position], scores[position], bytes)
        }
    }

    /// Job `id` wherever ``recentJobs(queue:limit:)`` would look, without reading the others: one pipeline for its
    /// history record and its scheduled and dead copies, then the newest `limit` stream entries.
    package func recentJob(id: String, queue: String, limit: Int) async throws -> [RecentJob] {
        let k = keys(queue)
        let replies = try await redis.pipeline([
            RedisCommand("HGET", k.historyJobs, id), RedisCommand("HGET", k.scheduledJobs, id), RedisCommand("ZSCORE", k.scheduled, id),
            RedisCommand("HGET", k.deadJobs, id), RedisCommand("ZSCORE", k.dead, id),
        ])
        var found: [RecentJob] = []
        if let record = replies[0].bytes.flatMap(HistoryRecord.decode), let envelope = record.envelope {
            found.append(RecentJob(place: .finished, envelope: envelope, record: record, at: record.finishedAt))
        }
        if let bytes = replies[1].bytes, let envelope = try? JobEnvelope.decode(bytes) {
            found.append(RecentJob(place: .scheduled, envelope: envelope, record: nil, at: replies[2].double ?? Double(replies[2].string ?? "")))
        }
        if let bytes = replies[3].bytes, let envelope = try? JobEnvelope.decode(bytes) {
            found.append(RecentJob(place: .dead, envelope: envelope, record: nil, at: replies[4].double ?? Double(replies[4].string ?? "")))
        }
        let needle = Array("\"\(id)\"".utf8)
        for entry in try await redis.send("XREVRANGE", k.stream, "+", "-", "COUNT", String(limit)).array ?? [] {
            guard let bytes = entry.array?.last?.array?.last?.bytes, bytes.containsBytes(needle), let envelope = try? JobEnvelope.decode(bytes),
                envelope.id == id
            else { continue }
            found.append(RecentJob(place: .stream, envelope: envelope, record: nil, at: nil))
        }
        return found
    }
}

extension Array where Element == UInt8 {
    /// True when `needle` occurs in these bytes (a cheap test before decoding an envelope).
    fileprivate func containsBytes(_ needle: [UInt8]) -> Bool {
        guard !needle.isEmpty, count >= needle.count else { return needle.isEmpty }
        var index = 0
        while index <= count - needle.count {
            if self[index] == needle[0] && self[index..<index + needle.count].elementsEqual(needle) { return true }
            index += 1
        }
        return false
    }
}

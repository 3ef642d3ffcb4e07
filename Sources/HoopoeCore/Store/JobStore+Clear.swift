import Redis

extension JobStore {
    /// The most jobs a page of a queue's clear reads: envelopes may be 512 KiB each, so a page is bounded in count.
    static let clearPage = 100

    /// The id of `queue`'s newest stream entry; nil when the stream is empty or missing.
    func newestEntry(queue: String) async throws -> String? {
        try await redis.send("XREVRANGE", keys(queue).stream, "+", "-", "COUNT", "1").array?.first?.array?.first?.string
    }

    /// A page of `queue`'s ready jobs — its stream's entries after the workers' group's last-delivered id, which no
    /// worker has fetched — oldest first, after entry `after` (nil: from the first ready one) and up to entry `end`.
    /// Each with its stored envelope bytes. A job a worker fetches meanwhile is found held when it is cancelled, and
    /// left.
    func readyPage(queue: String, after: String?, through end: String, count: Int = JobStore.clearPage) async throws -> [(entryID: String, envelope: [UInt8])] {
        let k = keys(queue)
        let start: String
        if let after {
            start = "(" + after
        } else {
            // No group yet (no worker has read the stream): every entry is ready.
            start = Self.lastDelivered(groups: try await redis.send("XINFO", "GROUPS", k.stream)).map { "(" + $0 } ?? "-"
        }
        let entries = try await redis.send("XRANGE", k.stream, start, end, "COUNT", String(count)).array ?? []
        return entries.compactMap { entry in
            guard let id = entry.array?.first?.string else { return nil }
            return (id, entry.array?.last?.array?.last?.bytes ?? [])
        }
    }

    /// A page of `queue`'s scheduled jobs (delayed jobs and retries) by rank from `offset`, earliest due first, each
    /// with its stored envelope (nil when the scheduled set names a job its hash lacks).
    func scheduledPage(queue: String, offset: Int, count: Int = JobStore.clearPage) async throws -> [(id: String, envelope: [UInt8]?)] {
        let k = keys(queue)
        let ids = (try await redis.send("ZRANGE", k.scheduled, String(offset), String(offset + count - 1)).array ?? []).compactMap(\.string)
        guard !ids.isEmpty else { return [] }
        let envelopes = try await redis.send(RedisCommand("HMGET", [k.scheduledJobs] + ids)).array ?? []
        return ids.enumerated().map { index, id in (id, index < envelopes.count ? envelopes[index].bytes : nil) }
    }
}

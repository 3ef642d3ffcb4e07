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
            // The `job` field, as the worker reads it: not the last, which is another field's when a service wrote one after it.
            return (id, entry.array?.last.map { Self.jobField($0) } ?? [])
        }
    }

    /// One step of a walk over `queue`'s scheduled set (delayed jobs and retries) with `ZSCAN`, from `cursor` ("0" to
    /// start): about `count` jobs, each with its stored envelope (nil when the set names a job its hash lacks), and the
    /// cursor of the next step ("0" when the walk is done).
    ///
    /// Why a scan, not pages by rank: a job in the set from the walk's start to its end is seen at least once, whatever
    /// the promoter, retries and delayed enqueues take out or add meanwhile. Pages by rank skipped jobs when earlier
    /// ones left the set (promoted, while a clear of one type kept the others), and stopped short when earlier-due ones
    /// came. A job can be seen twice (the set rehashed as it shrank): the caller counts it once.
    func scheduledScan(queue: String, cursor: String, count: Int = JobStore.clearPage) async throws -> (cursor: String, jobs: [(id: String, envelope: [UInt8]?)]) {
        let k = keys(queue)
        let reply = try await redis.send("ZSCAN", k.scheduled, cursor, "COUNT", String(count)).array ?? []
        guard reply.count == 2, let next = reply[0].string else { return ("0", []) }
        let flat = reply[1].array ?? []
        let ids = stride(from: 0, to: flat.count - 1, by: 2).compactMap { flat[$0].string }
        guard !ids.isEmpty else { return (next, []) }
        let envelopes = try await redis.send(RedisCommand("HMGET", [k.scheduledJobs] + ids)).array ?? []
        return (next, ids.enumerated().map { index, id in (id, index < envelopes.count ? envelopes[index].bytes : nil) })
    }
}

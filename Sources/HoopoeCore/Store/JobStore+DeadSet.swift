import Redis

extension JobStore {
    static let resurrectScript = RedisScript(name: "resurrect", embedded: PackageResources.resurrect_lua)
    /// dead.lua (the trim ``bury(_:queue:entryID:uniqueKey:countedType:answer:limits:now:history:)`` makes too), then
    /// dead_upkeep.lua.
    static let deadUpkeepScript = RedisScript(name: "dead-upkeep", embedded: PackageResources.dead_lua + PackageResources.dead_upkeep_lua)

    /// Trims `queue`'s dead set to its caps: the jobs that died more than `limits.maxAge` before `now`, then the oldest
    /// beyond `limits.maxJobs`, at most 1,000 of each a call. A burial trims too; this is for a queue whose jobs stopped
    /// dying, whose dead jobs (payloads with personal data among them) would otherwise outlive the age cap
    /// (``RetentionUpkeep``). Returns how many went.
    ///
    /// KEYS[1] dead · KEYS[2] dead:jobs · ARGV[1] now (Unix s) · ARGV[2] max age (s) · ARGV[3] max jobs
    func trimDeadSet(queue: String, limits: DeadSetLimits, now: Double) async throws -> Int {
        let k = keys(queue)
        return try await redis.run(
            Self.deadUpkeepScript, keys: [k.dead, k.deadJobs],
            arguments: [String(now), String(Int(limits.maxAge.seconds)), String(limits.maxJobs)]
        ).int ?? 0
    }

    /// Dead jobs, newest first, from the `offset`-th newest; an entry that does not decode is left out.
    func deadJobs(queue: String, offset: Int, limit: Int) async throws -> [JobEnvelope] {
        let k = keys(queue)
        let ids = (try await redis.send("ZREVRANGE", k.dead, String(offset), Self.rangeStop(offset: offset, limit: limit)).array ?? []).compactMap(\.string)
        if ids.isEmpty { return [] }
        let bodies = try await redis.send(RedisCommand("HMGET", [k.deadJobs] + ids)).array ?? []
        return bodies.compactMap { $0.bytes.flatMap { try? JobEnvelope.decode($0) } }
    }

    /// The newest dead job's time of death (its score), nil when the set is empty: the bound of a bulk action over "the
    /// jobs dead when it starts". Read from the set, not from this host's clock: the scores are the burying workers'
    /// clocks, and a bound from a clock behind theirs left the newest jobs out without a word.
    package func newestDeathScore(queue: String) async throws -> Double? {
        let pair = try await redis.send("ZRANGE", keys(queue).dead, "-1", "-1", "WITHSCORES").array ?? []
        return pair.count == 2 ? pair[1].string.flatMap(Double.init) : nil
    }

    /// The stored text of dead job `id` (one `HGET`, no stream scan), nil when it is not in the dead set.
    func deadJobBytes(id: String, queue: String) async throws -> [UInt8]? {
        try await redis.send("HGET", keys(queue).deadJobs, id).bytes
    }

    /// A dead job going back to its queue: its new envelope, and its unique lock (key and seconds) when it has one.
    package struct Revival: Sendable {
        let id: String
        let envelope: [UInt8]
        let uniqueLock: (key: String, seconds: String)?
        /// The dead record it was made from: moved only while the dead set still holds that one. Two retries of one
        /// death (two operators, a retry-all beside a retry) could otherwise see the job run, die again and be buried
        /// anew between one's read and the other's move, which sent the first death's envelope back and erased the
        /// second death's reason.
        let deadEnvelope: [UInt8]
    }

    /// Moves dead job `id` back to the stream with a fresh envelope (attempts reset), taking its unique lock again,
    /// in one script; not while another job holds that lock (``UniqueKeyHeld``):
    ///
    /// KEYS[1] dead · KEYS[2] dead:jobs · KEYS[3] stream · KEYS[4] its unique lock (`unique:-` when none) · ARGV[1] job
    /// id · ARGV[2] new envelope JSON · ARGV[3] the lock's seconds ("" when none) · ARGV[4] the SHA-1 of the dead
    /// record read (its bytes exactly)
    /// Returns 1 moved · 0 not in the dead set, or dead again since it was read (then this returns false) · -1 another
    /// job holds its unique key (then this throws ``UniqueKeyHeld``)
    func resurrect(_ job: Revival, queue: String) async throws -> Bool {
        let call = resurrectCall(job, queue: queue)
        let reply = try await redis.run(Self.resurrectScript, keys: call.keys, arguments: call.arguments).int
        if reply == -1 {
            let holder = try await redis.send("GET", call.keys[3]).string
            throw UniqueKeyHeld(id: job.id, uniqueKey: job.uniqueLock?.key ?? "", holder: holder ?? "another job")
        }
        return reply == 1
    }

    /// A dead job whose unique key another job holds now (enqueued since it died): retried, both would run.
    package struct UniqueKeyHeld: Error, Sendable {
        let id: String
        let uniqueKey: String
        let holder: String

        /// What an operator reads (the key masked, as every output masks it).
        var message: String {
            PersonalDataMask.mask(
                "dead job \(id) stays dead: its unique key '\(uniqueKey)' is held by job \(holder), and both would run; retry it once that job is done, or delete it")
        }
    }

    private func resurrectCall(_ job: Revival, queue: String) -> (keys: [String], arguments: [String]) {
        let k = keys(queue)
        return (
            [k.dead, k.deadJobs, k.stream, k.unique(job.uniqueLock?.key ?? "-")],
            [job.id, String(decoding: job.envelope, as: UTF8.self), job.uniqueLock?.seconds ?? "", RedisScript.sha1(bytes: job.deadEnvelope)]
        )
    }

    /// Deletes a dead job. Returns false if it was not there.
    func deleteDead(id: String, queue: String) async throws -> Bool {
        let k = keys(queue)
        let replies = try await redis.transaction([RedisCommand("ZREM", k.dead, id), RedisCommand("HDEL", k.deadJobs, id)])
        return replies.first?.int == 1
    }
}

/// The batched verbs of the dead set, for a "retry all" or "delete all" that goes through a large dead set a chunk
/// at a time (the dashboard's bulk actions): each call is a bounded number of round trips, whatever the set's size.
extension JobStore {
    /// The stored texts of dead jobs `ids` (one `HMGET`), nil for an id the dead set does not hold.
    package func deadJobBytes(ids: [String], queue: String) async throws -> [[UInt8]?] {
        if ids.isEmpty { return [] }
        let bodies = try await redis.send(RedisCommand("HMGET", [keys(queue).deadJobs] + ids)).array ?? []
        return ids.indices.map { $0 < bodies.count ? bodies[$0].bytes : nil }
    }

    /// ``resurrect(_:queue:)`` for many jobs in one round trip (the script pipelined); returns how many
    /// were moved (a job no longer in the dead set is not, nor one whose unique key another job holds).
    package func resurrect(_ jobs: [Revival], queue: String) async throws -> Int {
        let replies = try await redis.pipeline(Self.resurrectScript, calls: jobs.map { resurrectCall($0, queue: queue) })
        if let failure = replies.lazy.compactMap(\.errorMessage).first { throw RedisError.reply(failure, endpoint: endpoint, command: "EVALSHA resurrect") }
        return replies.filter { $0.int == 1 }.count
    }

    /// Deletes dead jobs `ids` in one transaction (`ZREM` and `HDEL` of them all); returns how many were there.
    package func deleteDead(ids: [String], queue: String) async throws -> Int {
        if ids.isEmpty { return 0 }
        let k = keys(queue)
        let replies = try await redis.transaction([RedisCommand("ZREM", [k.dead] + ids), RedisCommand("HDEL", [k.deadJobs] + ids)])
        return replies.first?.int ?? 0
    }
}

import Redis

extension JobStore {
    static let recoverScript = RedisScript(name: "recover", embedded: PackageResources.recover_lua)

    /// Claims for `consumer` up to `limit` deliveries of `queue` whose lease expired (their worker died or hung),
    /// with how many times each has been delivered and how many of those deliveries a worker is known to have started
    /// (``QueueKeys/recoveredRuns``), so the caller can count the lost runs as attempts:
    ///
    /// A lease lapses by Redis's clock (the delivery's idle time), never a host's. Every call — one with `limit` 0 too,
    /// which claims nothing — records Redis's time in ``QueueKeys/recoveryClock``. When the previous call on the queue
    /// (by any worker) is more than `expectedGap` ago, Redis was not answering or no worker was there: the idle time
    /// grown meanwhile, when no owner could renew, is added to the lease for `grace` (time for the owners' renewals to
    /// land). So a Redis that stalls longer than a lease does not hand live workers' jobs to whichever command it runs
    /// first afterwards (decision 0032).
    ///
    /// Every call also removes up to 16 marks of recovered runs whose entries are no longer pending (settled, handed
    /// back, buried): only a pending entry is recovered, so no later call could read them (decision 0079, amended).
    ///
    /// KEYS[1] stream · KEYS[2] recovery clock · KEYS[3] recovered runs · ARGV[1] group · ARGV[2] consumer · ARGV[3] lease (ms) · ARGV[4] max
    /// jobs (0: only the clock) · ARGV[5] expected gap between rounds (ms) · ARGV[6] grace (ms)
    /// Returns {{entry id, {"job", json}, deliveries, known lost runs}, ...} (`XAUTOCLAIM` rounds until `limit` or the end)
    func recover(queue: String, consumer: String, lease: Duration, limit: Int, expectedGap: Duration, grace: Duration) async throws -> [FetchedJob] {
        let queueKeys = keys(queue)
        let reply = try await redis.run(
            Self.recoverScript, keys: [queueKeys.stream, queueKeys.recoveryClock, queueKeys.recoveredRuns],
            arguments: [QueueKeys.group, consumer, String(Int(lease.seconds * 1000)), String(limit),
                String(Int(expectedGap.seconds * 1000)), String(Int(grace.seconds * 1000))])
        var recovered: [FetchedJob] = []
        for item in reply.array ?? [] {
            guard let parts = item.array, parts.count >= 3, let entryID = parts[0].string else { continue }
            recovered.append(FetchedJob(
                queue: queue, entryID: entryID, bytes: Self.jobField(parts[1]), deliveries: parts[2].int ?? 2, promoted: Self.isPromoted(parts[1]),
                knownLostRuns: parts.count > 3 ? parts[3].int ?? 0 : 0))
        }
        return recovered
    }

    /// Marks that a worker starts a recovered job (entry `entryID` of `queue`, delivered more than once): if this run
    /// is lost too, the next recovery knows it ran (``QueueKeys/recoveredRuns``). Called before its handler runs, for
    /// recovered jobs only: a first delivery is never marked (a write a job, for what a delivery count already bounds).
    func markRecoveredRun(queue: String, entryID: String) async throws {
        let key = keys(queue).recoveredRuns
        let replies = try await redis.pipeline([
            RedisCommand("HINCRBY", key, entryID, "1"), RedisCommand("EXPIRE", key, String(QueueKeys.recoveredRunsTTLSeconds)),
        ])
        if let message = replies.lazy.compactMap(\.errorMessage).first { throw RedisError.reply(message, endpoint: endpoint, command: "HINCRBY") }
    }
}

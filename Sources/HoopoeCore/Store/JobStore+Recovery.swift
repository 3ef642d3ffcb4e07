import Redis

extension JobStore {
    static let recoverScript = RedisScript(name: "recover", embedded: PackageResources.recover_lua)

    /// Claims for `consumer` up to `limit` deliveries of `queue` whose lease expired (their worker died or hung),
    /// with how many times each has been delivered, so the caller can count the lost runs as attempts:
    ///
    /// KEYS[1] stream · ARGV[1] group · ARGV[2] consumer · ARGV[3] lease (ms) · ARGV[4] max jobs
    /// Returns {{entry id, {"job", json}, deliveries}, ...} (`XAUTOCLAIM` rounds until `limit` or the end)
    func recover(queue: String, consumer: String, lease: Duration, limit: Int) async throws -> [FetchedJob] {
        let reply = try await redis.run(
            Self.recoverScript, keys: [keys(queue).stream],
            arguments: [QueueKeys.group, consumer, String(Int(lease.seconds * 1000)), String(limit)])
        var recovered: [FetchedJob] = []
        for item in reply.array ?? [] {
            guard let parts = item.array, parts.count == 3, let entryID = parts[0].string else { continue }
            recovered.append(FetchedJob(
                queue: queue, entryID: entryID, bytes: Self.jobField(parts[1]), deliveries: parts[2].int ?? 2, promoted: Self.isPromoted(parts[1])))
        }
        return recovered
    }
}

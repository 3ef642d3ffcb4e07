import Redis

extension JobStore {
    static let renewScript = RedisScript(name: "renew", embedded: PackageResources.renew_lua)
    /// The most of its own deliveries a renewal reads at once: far above what a worker holds (prefetch + concurrency).
    /// Held ids beyond it are looked up one by one: still renewed, only slower.
    static let ownLimit = 10_000

    /// Renews the lease of `consumer`'s deliveries `ids` of `queue`, at most 1000 ids a call, and returns those another
    /// consumer holds now (taken after their lease lapsed): they are not claimed back (decision 0032).
    ///
    /// The consumer's pending deliveries are read in one `XPENDING` (at most `ownLimit`: its pending list holds about
    /// what the worker holds). A delivery still `consumer`'s is claimed again by it with min-idle 0 (`XCLAIM … JUSTID`),
    /// which resets its idle time — Redis's own clock, so hosts' clocks never matter — and leaves its delivery count
    /// alone. One no longer pending (settled meanwhile) is skipped:
    ///
    /// KEYS[1] stream · ARGV[1] group · ARGV[2] consumer · ARGV[3] ownLimit · ARGV[4...] entry ids
    /// Returns {entry id, ...}: the ids another consumer holds.
    func renewLeases(queue: String, ids: [String], consumer: String) async throws -> [String] {
        var taken: [String] = []
        for chunk in stride(from: 0, to: ids.count, by: 1000) {
            let reply = try await redis.run(
                Self.renewScript, keys: [keys(queue).stream],
                arguments: [QueueKeys.group, consumer, String(Self.ownLimit)] + ids[chunk..<min(ids.count, chunk + 1000)])
            taken += (reply.array ?? []).compactMap(\.string)
        }
        return taken
    }
}

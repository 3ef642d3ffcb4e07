import Redis

extension JobStore {
    static let renewScript = RedisScript(name: "renew", embedded: PackageResources.renew_lua)
    /// The most of its own deliveries a renewal reads at once: far above what a worker holds (prefetch + concurrency).
    /// Held ids beyond it are looked up one by one: still renewed, only slower.
    static let ownLimit = 10_000

    /// Renews the lease of `consumer`'s deliveries `ids` of `queue`, at most 1000 ids a call, and returns those another
    /// consumer holds now (`taken` after their lease lapsed: they are not claimed back, decision 0032) and those no
    /// longer pending at all (`gone`: settled, by this worker a moment ago or by another that recovered them).
    ///
    /// The consumer's pending deliveries are read in one `XPENDING` (at most `ownLimit`: its pending list holds about
    /// what the worker holds). A delivery still `consumer`'s is claimed again by it with min-idle 0 (`XCLAIM … JUSTID`),
    /// which resets its idle time — Redis's own clock, so hosts' clocks never matter — and leaves its delivery count
    /// alone. One no longer pending (settled meanwhile) is only named:
    ///
    /// KEYS[1] stream · ARGV[1] group · ARGV[2] consumer · ARGV[3] ownLimit · ARGV[4...] entry ids
    /// Returns {{entry id, ...}, {entry id, ...}}: the ids another consumer holds, and those no longer pending.
    ///
    /// - Parameter connection: the renewal's own connection (``makeLeaseConnection()``), or nil for the pool.
    func renewLeases(queue: String, ids: [String], consumer: String, on connection: RedisConnection? = nil) async throws -> (taken: [String], gone: [String]) {
        var taken: [String] = []
        var gone: [String] = []
        for chunk in stride(from: 0, to: ids.count, by: 1000) {
            let stream = [keys(queue).stream]
            let arguments = [QueueKeys.group, consumer, String(Self.ownLimit)] + ids[chunk..<min(ids.count, chunk + 1000)]
            let reply = if let connection {
                try await redis.run(Self.renewScript, keys: stream, arguments: arguments, on: connection)
            } else {
                try await redis.run(Self.renewScript, keys: stream, arguments: arguments)
            }
            let lists = reply.array ?? []
            taken += (lists.first?.array ?? []).compactMap(\.string)
            gone += (lists.count > 1 ? lists[1].array ?? [] : []).compactMap(\.string)
        }
        return (taken, gone)
    }

    /// The lease renewal's own connection, so no renewal waits for a shared connection whose thread a handler holds
    /// (the runners run there: decision 0072); nil on a cluster, where renewals go by their queue's slot and the
    /// runners stay on the global pool.
    func makeLeaseConnection() -> RedisConnection? {
        redis.isCluster ? nil : redis.makeDedicatedConnection(name: "hoopoe-renew")
    }
}

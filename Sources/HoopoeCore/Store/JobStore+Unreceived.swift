import Redis

extension JobStore {
    static let adoptUnreceivedScript = RedisScript(name: "adopt_unreceived", embedded: PackageResources.adopt_unreceived_lua)

    /// The jobs a fetch of `consumer`'s delivered in `queue` though its reply never arrived (the connection dropped or
    /// timed out after Redis ran the `XREADGROUP`): entries pending to `consumer`, newer than `lastReceived` (the last
    /// entry its fetches of `queue` received; nil: none yet), delivered once. Their leases are renewed in the same step,
    /// so they are the caller's to hold and run as first deliveries. Entries deleted from the stream meanwhile are
    /// acknowledged (nothing to run). At most `limit`.
    ///
    /// Without it such a job waited out its lease, was recovered as delivered twice, and the run that never happened
    /// counted as an attempt: a job with `max_attempts: 1` was buried as "worker lost" without having run.
    ///
    /// KEYS[1] stream · ARGV[1] group · ARGV[2] consumer · ARGV[3] `XPENDING` start (exclusive of `lastReceived`) ·
    /// ARGV[4] limit. Returns an `XREADGROUP`-shaped reply: {{stream, {{id, {field, value, ...}}, ...}}}.
    func adoptUnreceived(queue: String, consumer: String, lastReceived: String?, limit: Int = 1000) async throws -> [FetchedJob] {
        let stream = keys(queue).stream
        let reply = try await redis.run(
            Self.adoptUnreceivedScript, keys: [stream],
            arguments: [QueueKeys.group, consumer, lastReceived.map { "(" + $0 } ?? "-", String(limit)])
        return Self.parseStreams(reply, deliveries: 1)
    }
}

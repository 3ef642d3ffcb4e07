import Synchronization

/// Asks the sentinels where the primary is (`SENTINEL get-master-addr-by-name NAME`).
///
/// The sentinels are asked in order, starting with the one that answered last time (it was up then, and asking a
/// dead one first would cost a connect timeout on every reconnect); the first that names the primary wins. A
/// sentinel that does not know the name (`nil`) is skipped like one that is down: during its own start-up a
/// sentinel may not have loaded its configuration yet.
///
/// Runs on the thread of the ``RedisConnection`` about to connect (its `address`), so it blocks: each sentinel gets
/// at most ``timeout`` to connect and answer.
final class SentinelResolver: Sendable {
    let settings: RedisSentinelSettings
    /// Per sentinel, to connect and to answer: short, so one dead sentinel does not hold up a reconnect.
    let timeout: Duration
    private let lastAnswered = Atomic<Int>(0)

    init(settings: RedisSentinelSettings, timeout: Duration) {
        self.settings = settings
        self.timeout = timeout
    }

    /// The primary the sentinels name now.
    /// - Throws: ``RedisError`` `connectionFailed` naming every sentinel tried and why each failed;
    ///   `authenticationFailed` when every sentinel refused the sentinel credentials (retrying cannot help).
    func primary() throws(RedisError) -> RedisConfiguration.Endpoint {
        let count = settings.sentinels.count
        let first = lastAnswered.load(ordering: .relaxed)
        var reasons: [String] = []
        var refusedCredentials = 0
        for offset in 0..<count {
            let index = (first + offset) % count
            let sentinel = settings.sentinels[index]
            do {
                let link = try SentinelLink(sentinel, settings: settings, timeout: timeout)
                let reply = try link.command(RedisCommand("SENTINEL", "get-master-addr-by-name", settings.masterName))
                guard let endpoint = Self.endpoint(reply) else {
                    reasons.append("\(sentinel): \(reply.errorMessage ?? "does not know a primary named '\(settings.masterName)'")")
                    continue
                }
                lastAnswered.store(index, ordering: .relaxed)
                return endpoint
            } catch {
                if error.code == .authenticationFailed { refusedCredentials += 1 }
                reasons.append("\(sentinel): \(error.message)")
            }
        }
        throw RedisError(
            refusedCredentials == count ? .authenticationFailed : .connectionFailed, endpoint: settings.sentinels.map(\.description).joined(separator: ","),
            command: "SENTINEL get-master-addr-by-name", message: "no sentinel named the primary '\(settings.masterName)': \(reasons.joined(separator: "; "))")
    }

    /// The address in a `get-master-addr-by-name` reply (`[host, port]`), nil for `nil` or an error.
    static func endpoint(_ reply: RedisReply) -> RedisConfiguration.Endpoint? {
        guard let parts = reply.array, parts.count == 2, let host = parts[0].string, let port = parts[1].string.flatMap(Int.init) else { return nil }
        return .tcp(host: host, port: port)
    }
}

import Redis

/// The domain stores' one door to Redis (``DomainServices/redis``): every domain key is read and written through a
/// store (``SMSLedger``, ``GiftStore``, ``FreeCreditLimiter``, ``SubscriptionStore``, ``CreditThresholdStore``,
/// ``RegistrationStore``, ``EmailLedger``, ``ProviderAlerts``, ``EventLog``, ``DomainClock``), and a store reaches
/// Redis only here. Jobs never do.
///
/// Why a door and not the client itself: Redis Cluster runs a script or a `MULTI` only when all its keys hash to one
/// slot. Debug builds (every test run) check that here for each script call and each transaction, so a key built
/// with the wrong hash tag fails the first test that takes that path instead of the first cluster it runs on.
struct StoreRedis: Sendable {
    let client: RedisClient

    /// Runs one command.
    /// - Parameter durable: wait for `REDIS_WAIT_REPLICAS` replicas (``RedisConfiguration/waitReplicas``; none when 0):
    ///   for a write a promise made outside Redis rests on (a send lock, a send-under-way mark), which a failover
    ///   must not lose. Too few throw ``RedisError/Code/notReplicated``: the write is on the primary.
    @discardableResult
    func send(_ command: RedisCommand, durable: Bool = false) async throws -> RedisReply {
        try await client.send(command, durable: durable)
    }

    /// Runs one command given as text arguments.
    @discardableResult
    func send(_ name: String, _ arguments: String...) async throws -> RedisReply {
        try await client.send(RedisCommand(name, arguments))
    }

    /// Commands in one round trip, replies in order.
    /// - Throws: the first error reply, as ``RedisError``: returned in place, a write Redis refused (`OOM` at
    ///   `maxmemory`, `NOPERM`, `WRONGTYPE`) was taken for done by the callers that only write (an email's `sending`
    ///   mark, a released reminder's record), and the step after it went ahead without it.
    func pipeline(_ commands: [RedisCommand]) async throws -> [RedisReply] {
        let replies = try await client.pipeline(commands)
        if let (reply, command) = zip(replies, commands).first(where: { $0.0.errorMessage != nil }), let message = reply.errorMessage {
            throw RedisError.reply(message, endpoint: client.endpointName, command: command.name)
        }
        return replies
    }

    /// Who holds the run's lock at `key` (its value) and for how long still (its `PTTL`); nil when no one does.
    func lockHolder(_ key: String) async throws -> LockHolder? {
        let replies = try await pipeline([RedisCommand("GET", key), RedisCommand("PTTL", key)])
        guard let token = replies[0].string, let milliseconds = replies[1].int, milliseconds > 0 else { return nil }
        return LockHolder(token: token, remaining: .milliseconds(milliseconds))
    }

    /// Runs `script` with its KEYS (all in one slot) and ARGV.
    /// - Parameter durable: as ``send(_:durable:)``.
    @discardableResult
    func run(_ script: RedisScript, keys: [String], arguments: [String], durable: Bool = false) async throws -> RedisReply {
        try HashSlot.requireOne(keys, for: script.name)
        return try await client.run(script, keys: keys, arguments: arguments, durable: durable)
    }

    /// Runs `script` once per call in one round trip, replies in order.
    func pipeline(_ script: RedisScript, calls: [(keys: [String], arguments: [String])]) async throws -> [RedisReply] {
        for call in calls { try HashSlot.requireOne(call.keys, for: script.name) }
        return try await client.pipeline(script, calls: calls)
    }

    /// Runs `commands` in `MULTI`/`EXEC`.
    /// - Parameters:
    ///   - keys: every key the commands touch (one slot).
    ///   - durable: as ``send(_:durable:)``.
    func transaction(keys: [String], _ commands: [RedisCommand], durable: Bool = false) async throws -> [RedisReply] {
        try HashSlot.requireOne(keys, for: "MULTI \(commands.map(\.name).joined(separator: " "))")
        return try await client.transaction(commands, durable: durable)
    }
}

import Foundation
import HoopoeCore
import HoopoeJSON
import Redis

/// One user's registration state in Redis: the progress hash and the lock that keeps two jobs for the same user
/// from working at once (two concurrent creates would make two children).
///
/// Keys (jobs/types/sendinblue.register.md):
/// - `<ns>:{registration}:user:<user_id>` — hash of ``RegistrationProgress`` fields; expires ``stateTTL`` after its
///   last write (the retry window plus a year): a dead job retried from the dead set resumes where it stopped, and
///   a second job for a registered user does nothing — a few hundred bytes per user buy that for a year.
///   Its `auth_key` field is also where Kingfisher reads the child's key (`HGET`): the `sendinblue.registered`
///   event only says whether one is stored, since everything on the events stream is seen by every reader.
/// - `<ns>:{registration}:lock:<user_id>` — the id of the job working on the user; expires on its own if the
///   worker dies, and the same job id may take it again (a run recovered after a lost worker).
struct RegistrationStore: Sendable {
    let redis: StoreRedis
    let key: String
    let lockKey: String
    /// Seconds the progress hash lives after its last write.
    let stateTTL: Int

    init(services: DomainServices, userID: String) {
        redis = services.redis
        key = services.key("{registration}:user:\(userID)")
        lockKey = services.key("{registration}:lock:\(userID)")
        stateTTL = (services.settings.registration.retryHours + 365 * 24) * 3600
    }

    /// The progress so far (empty for a new user).
    func load() async throws -> RegistrationProgress {
        RegistrationProgress(fields: try await redis.send("HGETALL", key).hashFields)
    }

    /// Sets fields and removes others in one atomic step (`MULTI`), refreshing the expiry.
    func update(set fields: [String: String] = [:], remove: [String] = []) async throws {
        _ = try await redis.transaction(keys: [key], commands(set: fields, remove: remove))
    }

    /// Marks the registration done. Called only after `sendinblue.registered` is on the events stream: the stream
    /// (`<ns>:events`) and this hash (`{registration}`) are in different Cluster slots, so they cannot share a
    /// `MULTI`. Event first, mark second: a crash between the two leaves the registration unmarked, and the retry
    /// finds every step done and emits the event again (events are at least once; readers de-duplicate on
    /// `user_id`). The other order could lose the event for good.
    func markRegistered(at seconds: Double) async throws {
        try await update(set: [RegistrationProgress.Field.registeredAt: String(format: "%.3f", seconds)],
                         remove: [RegistrationProgress.Field.createSent, RegistrationProgress.Field.creditsSent])
    }

    /// Counts one failure in the count named `field` (``RegistrationProgress/Field/failures(provider:operation:code:)``),
    /// for a code whose provider caps the attempts (Brevo `409`: two); returns how many there have been.
    func countFailure(_ field: String) async throws -> Int {
        let replies = try await redis.transaction(keys: [key], [
            RedisCommand("HINCRBY", key, field, "1"),
            RedisCommand("EXPIRE", key, String(stateTTL)),
        ])
        return replies.first?.int ?? 1
    }

    /// Forgets the count named `field`: the job gave up on it.
    func forgetFailures(_ field: String) async throws {
        _ = try await redis.send("HDEL", key, field)
    }

    private func commands(set fields: [String: String], remove: [String]) -> [RedisCommand] {
        var commands: [RedisCommand] = []
        if !fields.isEmpty {
            commands.append(RedisCommand("HSET", [key] + fields.sorted { $0.key < $1.key }.flatMap { [$0.key, $0.value] }))
        }
        if !remove.isEmpty { commands.append(RedisCommand("HDEL", [key] + remove)) }
        commands.append(RedisCommand("EXPIRE", [key, String(stateTTL)]))
        return commands
    }

    /// Takes the user's lock for `holder` (a job id and its attempt), or confirms `holder` already holds it. False when
    /// another holds it: another job, or an earlier attempt of this one.
    ///
    /// Durable (`REDIS_WAIT_REPLICAS`): a lock a failover lost let a second run create or top up the child beside one
    /// still working. Too few replicas confirmed it: it is given back (this holder's only) and
    /// ``RegistrationLockNotReplicated`` thrown: nothing is asked of Brevo, the job retries.
    func lock(holder: String, for duration: Duration) async throws -> Bool {
        let lock = RunLock(key: lockKey, redis: redis)
        do {
            // RunLock.take's script and arguments, waited on.
            return try await redis.run(
                RunLock.takeScript, keys: [lockKey], arguments: [holder, String(Int(duration.seconds * 1000))], durable: true
            ).int == 1
        } catch let error as RedisError where error.code == .notReplicated {
            try? await lock.release(holder: holder)
            throw RegistrationLockNotReplicated(error: error)
        }
    }

    /// Who holds the lock and for how long still; nil when no one does.
    func lockHolder() async throws -> LockHolder? {
        try await RunLock(key: lockKey, redis: redis).holder()
    }

    /// Releases the lock if `holder` holds it.
    func unlock(holder: String) async throws {
        try await RunLock(key: lockKey, redis: redis).release(holder: holder)
    }
}

/// A registration lock that fewer replicas than `REDIS_WAIT_REPLICAS` confirmed in time
/// (``RedisError/Code/notReplicated``), given back on the primary: the run asks nothing of Brevo, the job retries.
struct RegistrationLockNotReplicated: Error, CustomStringConvertible {
    let error: RedisError
    var description: String { "its lock did not reach enough replicas (\(error))" }
}

import HoopoeCore
import Redis

/// A lock one job run holds while it works (its value the holder, `<job id>:<attempt>`), released by that holder only and
/// expiring on its own, so a run that died holding it holds it no longer than its time. The store that owns the key
/// makes it (``RegistrationStore``: a user's registration; ``CreditThresholdStore``: the low-credit sweep); the two
/// scripts are shared, one copy each.
struct RunLock: Sendable {
    /// The lock's key.
    let key: String
    let redis: StoreRedis

    /// Takes the lock for `holder`, or confirms `holder` already holds it (and holds it `duration` more). False when
    /// another holds it: another job, or an earlier attempt of this one.
    ///
    /// KEYS[1] the lock · ARGV[1] holder · ARGV[2] milliseconds.
    func take(holder: String, for duration: Duration) async throws -> Bool {
        try await redis.run(Self.takeScript, keys: [key], arguments: [holder, String(Int(duration.seconds * 1000))]).int == 1
    }

    /// Who holds the lock and for how long still; nil when no one does.
    func holder() async throws -> LockHolder? {
        try await redis.lockHolder(key)
    }

    /// Releases the lock if `holder` holds it.
    ///
    /// KEYS[1] the lock · ARGV[1] holder.
    func release(holder: String) async throws {
        try await redis.run(Self.releaseScript, keys: [key], arguments: [holder])
    }

    /// `Lua/run_lock.lua`.
    static let takeScript = RedisScript(name: "run.lock", embedded: PackageResources.run_lock_lua)
    /// `Lua/run_unlock.lua`.
    static let releaseScript = RedisScript(name: "run.unlock", embedded: PackageResources.run_unlock_lua)
}

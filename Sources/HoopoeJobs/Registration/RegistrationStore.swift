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
    let redis: RedisClient
    let key: String
    let lockKey: String
    /// Seconds the progress hash lives after its last write.
    let stateTTL: Int

    init(services: DomainServices, userID: String) {
        redis = services.jobs.redis
        key = services.key("{registration}:user:\(userID)")
        lockKey = services.key("{registration}:lock:\(userID)")
        stateTTL = (services.settings.registration.retryHours + 365 * 24) * 3600
    }

    /// The progress so far (empty for a new user).
    func load() async throws -> RegistrationProgress {
        let reply = try await redis.send("HGETALL", key)
        var fields: [String: String] = [:]
        let items = reply.array ?? []
        var index = 0
        while index + 1 < items.count {
            if let name = items[index].string { fields[name] = items[index + 1].string ?? "" }
            index += 2
        }
        return RegistrationProgress(fields: fields)
    }

    /// Sets fields and removes others in one atomic step (`MULTI`), refreshing the expiry.
    func update(set fields: [String: String] = [:], remove: [String] = []) async throws {
        _ = try await redis.transaction(commands(set: fields, remove: remove))
    }

    /// Marks the registration done and appends its event in one transaction: either both happen or neither.
    func finish(event: RedisCommand, at seconds: Double) async throws {
        _ = try await redis.transaction(
            commands(set: [RegistrationProgress.Field.registeredAt: String(format: "%.3f", seconds)],
                     remove: [RegistrationProgress.Field.createSent, RegistrationProgress.Field.creditsSent]) + [event])
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

    /// Takes the user's lock for `jobID`, or confirms this job already holds it. False when another job holds it.
    func lock(jobID: String, for duration: Duration) async throws -> Bool {
        let reply = try await redis.run(Self.lockScript, keys: [lockKey], arguments: [jobID, String(duration.components.seconds * 1000)])
        return reply.int == 1
    }

    /// Releases the lock if this job holds it.
    func unlock(jobID: String) async throws {
        try await redis.run(Self.unlockScript, keys: [lockKey], arguments: [jobID])
    }

    /// KEYS[1] lock · ARGV[1] job id · ARGV[2] ms. Returns 1 when the job holds the lock now, 0 when another does.
    static let lockScript = RedisScript(name: "registration.lock", source: """
        local holder = redis.call('GET', KEYS[1])
        if holder and holder ~= ARGV[1] then return 0 end
        redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
        return 1
        """)

    /// KEYS[1] lock · ARGV[1] job id. Deletes the lock only if the job still holds it.
    static let unlockScript = RedisScript(name: "registration.unlock", source: """
        if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
        return 0
        """)
}

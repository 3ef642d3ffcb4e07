import Foundation
import Redis

extension JobStore {
    static let promoteScript = RedisScript(name: "promote", embedded: PackageResources.promote_lua)
    /// Jobs one promote call moves at most: large enough for a backlog, small enough not to hold Redis long.
    static let promoteBatch = 1000
    /// How long (ms) a promoter's lock keeps the other workers' promoters of the queue from repeating its scan.
    static let promoteLockMilliseconds = 400

    /// Moves the due delayed jobs and retries of `queue` to its stream, oldest first, a batch a call until
    /// fewer than a batch were due. Safe from many workers at once: each job is promoted once.
    ///
    /// KEYS[1] scheduled · KEYS[2] scheduled:jobs · KEYS[3] stream · KEYS[4] promote:lock
    /// ARGV[1] batch size · ARGV[2] lock time (ms)
    /// Replies `{n, seconds, microseconds}`: the number promoted (-1 when another promoter holds the lock) and Redis's
    /// clock as the script read it, before the lock, so every round reads it.
    ///
    /// Each entry gets `promoted 1` before its `job` field: the scheduled set's score decided its time (an
    /// operator who sets the score to now means "run now"), so the worker does not hold it back for its
    /// envelope's `run_at`. The lock only saves work: the script's atomicity already rules out double promotion.
    ///
    /// Returns Redis's clock (Unix seconds) as the first call read it, with this process's clock read after that
    /// call's reply: a worker learns from them how far its clock may be ahead (``ClockLead``). Nil for a reply
    /// without the time.
    @discardableResult
    func promote(queue: String) async throws -> (redis: Double, localAfter: Double)? {
        let k = keys(queue)
        var clocks: (redis: Double, localAfter: Double)?
        while true {
            let reply = try await redis.run(
                Self.promoteScript, keys: [k.scheduled, k.scheduledJobs, k.stream, k.promoteLock],
                arguments: [String(Self.promoteBatch), String(Self.promoteLockMilliseconds)])
            let parts = reply.array ?? []
            if clocks == nil, parts.count == 3, let seconds = parts[1].double, let micros = parts[2].double {
                clocks = (seconds + micros / 1_000_000, Date().timeIntervalSince1970)
            }
            if (parts.first?.int ?? 0) < Self.promoteBatch { return clocks }
        }
    }
}

extension JobStore {
    /// Makes every delayed job of `queue` due now (their scores 0), for benchmarks of promotion: a backlog that
    /// all comes due at once. One command over the whole set, so it gets a window of its own: on a slow VM a
    /// million members took more than the 5 s an ordinary reply gets (`make bench`'s engine section failed, session 12).
    package func makeScheduledDue(queue: String) async throws {
        let scheduled = keys(queue).scheduled
        var command = RedisCommand("ZUNIONSTORE", scheduled, "1", scheduled, "WEIGHTS", "0")
        command.blockingSeconds = 120
        try await redis.send(command)
    }
}

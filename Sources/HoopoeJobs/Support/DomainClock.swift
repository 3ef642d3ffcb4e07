import Foundation
import Redis

/// Where domain jobs read "now": quiet hours, reminder offsets, gift expiry, the free-credit cooldown and month, the
/// gift wheel's day.
///
/// Production reads Redis's clock (`TIME`, ``redisTime(_:)``): every worker of a deployment then decides by the same
/// clock, whatever its host's says. With the host's, a worker whose clock ran more than the cooldown (120 s) behind
/// granted a user's free credit, and a worker with a true clock granted it again seconds later: the limiter compares
/// one caller's `now` with another's stored grant time (a review found it; decisions 0083 and 0085 made the same move
/// for the scheduler and the heartbeats). It costs one round trip each time a job reads the clock.
///
/// Simulations and end-to-end tests need to move time through a real worker process (a month of reminders in
/// seconds), so the worker can be started with `HOOPOE_CLOCK_KEY=<redis key>`: "now" is then the Unix time stored in
/// that key (or Redis's clock while the key is absent). The engine's own timing (leases, retries, delayed jobs) uses
/// the real clock; a job that defers itself to a domain time converts it with ``realTime(for:now:)``.
public struct DomainClock: Sendable {
    enum Source: Sendable {
        case redisTime(RedisClient)
        case redisKey(RedisClient, String)
    }
    let source: Source

    /// Redis's clock (`TIME`): what the workers use.
    public static func redisTime(_ redis: RedisClient) -> DomainClock {
        DomainClock(source: .redisTime(redis))
    }

    /// A clock that reads the Unix time (seconds, may be fractional) from `key`.
    public static func redis(_ redis: RedisClient, key: String) -> DomainClock {
        DomainClock(source: .redisKey(redis, key))
    }

    /// The current domain time.
    public func now() async throws -> Date {
        switch source {
        case .redisTime(let redis):
            return try await Self.serverTime(redis)
        case .redisKey(let redis, let key):
            let reply = try await redis.send("GET", key)
            // Only a plausible time (1970-2199) counts: 1e308 here would trap every job's day arithmetic.
            guard let text = reply.string, let seconds = Double(text), seconds > 0, seconds < 7_258_118_400 else { return try await Self.serverTime(redis) }
            return Date(timeIntervalSince1970: seconds)
        }
    }

    /// Redis's `TIME`, to the microsecond.
    private static func serverTime(_ redis: RedisClient) async throws -> Date {
        Date(timeIntervalSince1970: try await redis.serverTime())
    }

    /// This host's time at which the domain clock will read `target`, given that it reads `now` at this moment: what
    /// ``JobFailure/retry(_:at:)`` and ``EnqueueOptions/runAt`` take, as every enqueuer's `run_at` is (the worker moves
    /// a retry's by its host's lead on Redis, decision 0081).
    ///
    /// Why not `target` itself for Redis's clock, as it was: a worker whose host ran ahead of Redis (10 s, say) had a
    /// deferral to a time within that lead dropped as past (`run_at` judged by the host's clock), so the deferred
    /// `sms.send` ran at once, still in quiet hours, and waited as a retry whose Redis time the worker then moved back
    /// by the lead: due at once again, about twice a second until the time came, each run an attempt (a review found
    /// it: 12 attempts, a message buried unsent). Off by the lead at most now, late for a host ahead and early for one
    /// behind, which the job's own check then puts off again.
    public func realTime(for target: Date, now: Date) -> Date {
        Date().addingTimeInterval(target.timeIntervalSince(now))
    }
}

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

    /// The real (engine) time at which the domain clock will read `target`, given that it reads `now` at this
    /// moment. Equal to `target` for Redis's clock, which the promotion of a delayed job reads too.
    public func realTime(for target: Date, now: Date) -> Date {
        switch source {
        // Redis's clock is the engine's for a job's `run_at` (the promotion goes by it, decision 0081).
        case .redisTime: target
        case .redisKey: Date().addingTimeInterval(target.timeIntervalSince(now))
        }
    }
}

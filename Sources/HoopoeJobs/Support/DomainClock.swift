import Foundation
import Redis

/// Where domain jobs read "now": quiet hours, reminder offsets, gift expiry, the free-credit month.
///
/// Production reads the system clock. Simulations and end-to-end tests need to move time through a real worker
/// process (a month of reminders in seconds), so the worker can be started with `HOOPOE_CLOCK_KEY=<redis key>`:
/// "now" is then the Unix time stored in that key (or the system time while the key is absent). The engine's own
/// timing (leases, retries, delayed jobs) always uses the real clock; a job that defers itself to a domain time
/// converts it with ``realTime(for:now:)``.
public struct DomainClock: Sendable {
    enum Source: Sendable {
        case system
        case redisKey(RedisClient, String)
    }
    let source: Source

    /// The system clock.
    public static let system = DomainClock(source: .system)

    /// A clock that reads the Unix time (seconds, may be fractional) from `key`.
    public static func redis(_ redis: RedisClient, key: String) -> DomainClock {
        DomainClock(source: .redisKey(redis, key))
    }

    /// The current domain time.
    public func now() async throws -> Date {
        switch source {
        case .system:
            return Date()
        case .redisKey(let redis, let key):
            let reply = try await redis.send("GET", key)
            // Only a plausible time (1970-2199) counts: 1e308 here would trap every job's day arithmetic.
            guard let text = reply.string, let seconds = Double(text), seconds > 0, seconds < 7_258_118_400 else { return Date() }
            return Date(timeIntervalSince1970: seconds)
        }
    }

    /// The real (engine) time at which the domain clock will read `target`, given that it reads `now` at this
    /// moment. Equal to `target` for the system clock.
    public func realTime(for target: Date, now: Date) -> Date {
        switch source {
        case .system: target
        case .redisKey: Date().addingTimeInterval(target.timeIntervalSince(now))
        }
    }
}

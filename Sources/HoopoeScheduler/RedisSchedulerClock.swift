import Foundation
import Redis
import Synchronization

/// Redis's clock, the one every scheduler shares: `TIME`, read at every wake-up, gives this host's offset from it, and
/// ``now()`` is this host's clock plus that offset (``sleep(until:)`` sleeps the same way).
///
/// Why not the host's clock: the ticks a scheduler finds due, and the last handled tick it stores for every scheduler,
/// came from it. A host whose clock ran ahead (a VM booted a year early before NTP caught up) enqueued ticks early and
/// moved a task's last tick into the future, where no scheduler planned anything until its clock reached it (decision
/// 0083). Redis's clock decides here as it does for the worker's `run_at` (decision 0081).
///
/// Cost: one `TIME` a wake-up (once a second at most for a per-second task, once a minute at the longest sleep). When
/// it cannot be read (Redis unreachable: nothing can be enqueued either), the last offset stands; before the first
/// read it is zero, the host's clock.
public final class RedisSchedulerClock: SchedulerClock {
    private let redis: RedisClient
    /// Redis's time minus this host's, seconds.
    private let offset = Mutex(0.0)

    public init(redis: RedisClient) {
        self.redis = redis
    }

    public func synchronize() async {
        let before = Date().timeIntervalSince1970
        guard let redisNow = try? await Self.time(of: redis) else { return }
        let after = Date().timeIntervalSince1970
        // Against the midpoint of the round trip: off by at most half of it.
        let lead = redisNow - (before + after) / 2
        offset.withLock { $0 = lead }
    }

    /// Redis's `TIME`, Unix seconds with microseconds.
    static func time(of redis: RedisClient) async throws -> Double {
        let reply = try await redis.send("TIME").array ?? []
        guard reply.count == 2, let seconds = reply[0].string.flatMap(Double.init), let micros = reply[1].string.flatMap(Double.init) else {
            throw UnreadableTime()
        }
        return seconds + micros / 1e6
    }

    /// A `TIME` reply not of two numbers.
    struct UnreadableTime: Error, CustomStringConvertible {
        var description: String { "Redis's TIME reply is not two numbers" }
    }

    public func now() -> Date { Date().addingTimeInterval(offset.withLock { $0 }) }

    public func sleep(until deadline: Date) async throws {
        let seconds = deadline.timeIntervalSince(now())
        guard seconds > 0 else { return }
        try await Task.sleep(for: .seconds(seconds))
    }
}

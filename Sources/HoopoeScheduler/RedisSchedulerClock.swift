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
/// it cannot be read (Redis unreachable: nothing can be enqueued either), the last offset stands. Before the first
/// read there is none, and ``synchronize()`` throws: nothing is planned on the host's clock. (It fell back to it, with
/// no word in the log: a `TIME` refused for good — an ACL without `+time`, a proxy without key-less commands — turned
/// decision 0083's protection off, and a failed first read beside a clock ahead enqueued a tick early.)
public final class RedisSchedulerClock: SchedulerClock {
    private let redis: RedisClient
    /// Redis's time minus this host's, seconds; nil until `TIME` was first read.
    private let offset = Mutex<Double?>(nil)

    public init(redis: RedisClient) {
        self.redis = redis
    }

    public func synchronize() async throws {
        let before = Date().timeIntervalSince1970
        let redisNow: Double
        do {
            redisNow = try await redis.serverTime()
        } catch {
            if offset.withLock({ $0 }) != nil { return }
            throw ClockUnread(cause: error)
        }
        let after = Date().timeIntervalSince1970
        // Against the midpoint of the round trip: off by at most half of it.
        let lead = redisNow - (before + after) / 2
        offset.withLock { $0 = lead }
    }

    /// Redis's `TIME` has not been read yet, so this scheduler has no clock to plan by.
    public struct ClockUnread: Error, CustomStringConvertible {
        public let cause: any Error
        public var description: String {
            "Redis's clock (TIME) could not be read, so no tick is planned (a scheduler plans by Redis's clock, not the host's): \(cause)"
        }
    }

    public func now() -> Date { Date().addingTimeInterval(offset.withLock { $0 } ?? 0) }

    public func sleep(until deadline: Date) async throws {
        let seconds = deadline.timeIntervalSince(now())
        guard seconds > 0 else { return }
        try await Task.sleep(for: .seconds(seconds))
    }
}

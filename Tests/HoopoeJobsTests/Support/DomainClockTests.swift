import Foundation
import HoopoeJobs
import Redis
import Testing
import TestSupport

/// A domain time converted for the engine (``DomainClock/realTime(for:now:)``) is on this host's clock, which
/// `JobFailure.retry(at:)` and `EnqueueOptions.runAt` take: the worker moves a retry's time by its host's lead on Redis.
@Suite struct DomainClockTests {
    /// Redis's clock 10 s behind this host (a host running ahead): a deferral 5 s ahead by Redis's clock is 5 s ahead
    /// here too. Converted as Redis's own time, as before, it was 5 s in the past here: a deferred `sms.send` was
    /// enqueued to run at once, and its retry moved back by the lead, due at once again until it ran out of attempts.
    @Test func aDomainTimeIsGivenOnThisHostsClock() throws {
        let redis = try TestRedis.client()
        defer { redis.close() }
        let redisNow = Date().addingTimeInterval(-10)
        for clock in [DomainClock.redisTime(redis), DomainClock.redis(redis, key: "clock")] {
            let converted = clock.realTime(for: redisNow.addingTimeInterval(5), now: redisNow)
            #expect(abs(converted.timeIntervalSince(Date().addingTimeInterval(5))) < 1, "\(converted) against \(Date())")
        }
    }
}

import Foundation
import Redis
import TestSupport
import Testing

@testable import HoopoeCore

/// The counters' totals are sums made when read (decision 0033): the settles write per type a day and per minute an
/// hour, and the readers give the same totals as when the scripts wrote them too — also from hashes written before,
/// which hold the stored totals beside the fields (counted once, not twice).
@Suite struct CounterTotalsTests {
    @Test func aDayIsSummedPerCounterFromItsTypesAndAnHourFromItsMinutes() {
        let day = RedisReply.array([
            "processed:a", "3", "processed:b", "2", "failed:a", "1", "dead:a", "1", "retried:x:y", "4",
        ].map { RedisReply.bulk(Array($0.utf8)) })
        #expect(CounterTotals.summed(day) == [
            "processed:a": 3, "processed:b": 2, "processed": 5, "failed:a": 1, "failed": 1, "dead:a": 1, "dead": 1, "retried:x:y": 4, "retried": 4,
        ])
        let hour = RedisReply.array(["m07:processed", "3", "m59:processed", "2", "m07:failed", "1"].map { RedisReply.bulk(Array($0.utf8)) })
        #expect(CounterTotals.summed(hour) == ["m07:processed": 3, "m59:processed": 2, "m07:failed": 1, "processed": 5, "failed": 1])
        // Hand-edited fields whose sum no Int holds: the total is the end of the range, not a trap.
        let edited = RedisReply.array(["processed:a", String(Int.max), "processed:b", "1", "failed:a", String(Int.min), "failed:b", "-1"].map { RedisReply.bulk(Array($0.utf8)) })
        #expect(CounterTotals.summed(edited)["processed"] == Int.max && CounterTotals.summed(edited)["failed"] == Int.min)
    }

    /// Hashes as a release before decision 0033 left them (the totals stored too), then settles of this one: the
    /// totals count every job once, whichever release counted it.
    @Test func hashesWithStoredTotalsReadTheSameAndNewSettlesAddToThem() async throws {
        let space = try TestNamespace()
        let store = space.jobs.store
        let k = store.keys("default")
        let now = Date()
        let slot = QueueKeys.hour(now)
        try await space.redis.send(RedisCommand("HSET", [k.stats(on: now), "processed", "5", "processed:a", "3", "processed:b", "2"]))
        try await space.redis.send(RedisCommand("HSET", [k.stats(hour: slot.hour), "processed", "5", "\(slot.minute):processed", "5"]))
        #expect(try await space.jobs.counters(queue: "default")["processed"] == 5)
        #expect(try await store.hourTotals(queue: "default", hours: [now], fields: ["processed", "failed"]) == [[5, 0]])
        let acks = (0..<2).map { n in
            Acknowledgement(queue: "default", entryID: "\(n + 1)-0", type: "a", jobID: "t-\(n)", uniqueKey: nil, counter: "processed")
        }
        _ = try await store.acknowledge(acks, queue: "default", counter: "processed", at: now)
        let counters = try await space.jobs.counters(queue: "default")
        #expect(counters["processed"] == 7 && counters["processed:a"] == 5 && counters["processed:b"] == 2, "\(counters)")
        #expect(try await store.hourTotals(queue: "default", hours: [now], fields: ["processed"]) == [[7]])
        #expect(try await store.minuteCounts(queue: "default", fields: ["processed"], minutes: 1, now: now) == [[7]])
    }
}

import Foundation
@testable import HoopoeCore
import Redis
import Testing

/// What a recovery round (`recover.lua`) does to the marks of recovered runs (decision 0079, amended in session 44).
@Suite struct JobStoreRecoveryTests {
    /// Every recovered job once started leaves a mark; before, the hash kept them all while recoveries kept refreshing
    /// its TTL. A round now removes marks whose entry is no longer pending (and a field that is not an entry id), a few
    /// at a time, and keeps those of entries still held, which count when the entry is recovered again.
    @Test func aRecoveryRoundRemovesTheMarksOfEntriesNoLongerPending() async throws {
        let h = try EngineHarness()
        let store = h.jobs.store
        for i in 0..<42 { _ = try await h.jobs.enqueue(type: "diag.record", payload: h.diag(key: "\(h.namespace):rec", member: "m\(i)")) }
        let keys = h.jobs.keys("default")
        _ = try await h.redis.send("XGROUP", "CREATE", keys.stream, QueueKeys.group, "0", "MKSTREAM")
        let taken = try await h.redis.send(RedisCommand("XREADGROUP", ["GROUP", QueueKeys.group, "ghost", "COUNT", "100", "STREAMS", keys.stream, ">"]))
        let ids = (taken.array?.first?.array?.last?.array ?? []).compactMap { $0.array?.first?.string }
        #expect(ids.count == 42)
        for id in ids { try await store.markRecoveredRun(queue: "default", entryID: id) }
        _ = try await h.redis.send("HSET", keys.recoveredRuns, "not-an-entry-id", "1")
        // All but two settled: their marks can never be read again.
        let held = Array(ids.prefix(2))
        _ = try await h.redis.send(RedisCommand("XACK", [keys.stream, QueueKeys.group] + ids.dropFirst(2)))

        func marks() async throws -> [String] { (try await h.redis.send("HKEYS", keys.recoveredRuns).array ?? []).compactMap(\.string).sorted() }
        var rounds = 0
        while try await marks().count > held.count, rounds < 30 {
            _ = try await store.recover(queue: "default", consumer: "heir", lease: .seconds(60), limit: 0, expectedGap: .seconds(60), grace: .zero)
            rounds += 1
        }
        #expect(try await marks() == held.sorted())
        #expect(rounds >= 3, "41 dead marks at 16 a round take at least three rounds; took \(rounds)")

        // The held entries' marks still count when they are recovered.
        try await Task.sleep(for: .milliseconds(300))
        let recovered = try await store.recover(
            queue: "default", consumer: "heir", lease: .milliseconds(100), limit: 10, expectedGap: .seconds(60), grace: .zero)
        #expect(recovered.map(\.entryID) == held)
        #expect(recovered.map(\.knownLostRuns) == [1, 1])
    }

    /// A queue never recovered from has no marks, and a round creates none.
    @Test func aRoundOnAQueueWithoutMarksWritesNone() async throws {
        let h = try EngineHarness()
        let keys = h.jobs.keys("default")
        _ = try await h.redis.send("XGROUP", "CREATE", keys.stream, QueueKeys.group, "0", "MKSTREAM")
        _ = try await h.jobs.store.recover(queue: "default", consumer: "heir", lease: .seconds(60), limit: 10, expectedGap: .seconds(60), grace: .zero)
        #expect(try await h.redis.send("EXISTS", keys.recoveredRuns).int == 0)
    }

    /// A round claims at most its room (decision 0071): the lapsed deliveries behind live workers' ones came back in two
    /// `XAUTOCLAIM` calls, the second asking for the whole room again (15 for a room of 10). It relies on Redis 7's scan
    /// cap (COUNT × 10 entries a call), which the tests' Redis has; on 6.2 the first call claims the whole room.
    @Test func aRoundClaimsNoMoreThanItsRoom() async throws {
        let h = try EngineHarness()
        let store = h.jobs.store
        let keys = h.jobs.keys("default")
        _ = try await h.redis.send("XGROUP", "CREATE", keys.stream, QueueKeys.group, "0", "MKSTREAM")
        // 95 deliveries a live worker holds, then 20 whose lease lapsed: a round's first call (COUNT 10 scans ~100
        // entries) finds 5 of them.
        _ = try await h.redis.pipeline((0..<115).map { i in RedisCommand("XADD", keys.stream, "*", "job", "{\"i\":\(i)}") })
        let taken = try await h.redis.send(RedisCommand("XREADGROUP", ["GROUP", QueueKeys.group, "live", "COUNT", "200", "STREAMS", keys.stream, ">"]))
        let ids = (taken.array?.first?.array?.last?.array ?? []).compactMap { $0.array?.first?.string }
        #expect(ids.count == 115)
        _ = try await h.redis.send(RedisCommand("XCLAIM", [keys.stream, QueueKeys.group, "lost", "0"] + ids.suffix(20) + ["IDLE", "600000", "JUSTID"]))
        let recovered = try await store.recover(queue: "default", consumer: "heir", lease: .seconds(60), limit: 10, expectedGap: .seconds(60), grace: .zero)
        #expect(recovered.count == 10, "\(recovered.count) recovered for a room of 10")
    }
}

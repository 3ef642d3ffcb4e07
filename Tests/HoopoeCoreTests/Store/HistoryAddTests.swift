import Redis
import TestSupport
import Testing

@testable import HoopoeCore

/// history.lua's `history_add` on its own (run through EVAL on a private server, so INFO commandstats counts only
/// this test's commands): each id is listed once, newest first, and an id that finished before is looked for in the
/// list only until every older entry HSET counted was found.
@Suite struct HistoryAddTests {
    /// Runs `history_add` for `batch` (id, record pairs) on ids/records/legacy keys `h:ids`, `h:jobs`, `h:legacy`.
    private static func add(_ redis: RedisClient, _ batch: [String]) async throws -> Int? {
        let script = String(decoding: PackageResources.history_lua, as: UTF8.self)
            + "\nreturn history_add(KEYS[1], KEYS[2], KEYS[3], ARGV, 1, #ARGV / 2)"
        return try await redis.send(RedisCommand("EVAL", [script, "3", "h:ids", "h:jobs", "h:legacy"] + batch)).int
    }

    @Test func aBatchMixingRefinishedAndNewIdsListsEachOnceNewestFirst() async throws {
        let server = try RedisServer()
        defer { withExtendedLifetime(server) {} }
        let redis = try RedisClient(url: server.url)
        defer { redis.close() }
        #expect(try await Self.add(redis, ["a", "1", "b", "1", "c", "1", "d", "1"]) == 4)
        #expect(try await AcknowledgeFixture.calls(redis, "lrem") == 0, "all new: no list is searched")
        try await redis.send("ZADD", "h:legacy", "5", "e")  // an older release's entry (decision 0033)
        try await redis.send("HSET", "h:jobs", "e", "1")
        // b and e finished before, among new ids; the last existing one (e) comes before the last new one.
        #expect(try await Self.add(redis, ["n1", "2", "b", "2", "e", "2", "n2", "2"]) == 7)
        let ids = (try await redis.send("LRANGE", "h:ids", "0", "-1").array ?? []).compactMap(\.string)
        #expect(ids == ["n2", "e", "b", "n1", "d", "c", "a"], "\(ids)")
        #expect(try await redis.send("ZCARD", "h:legacy").int == 0, "e's legacy entry went with it")
        #expect(try await redis.send("HGET", "h:jobs", "b").string == "2", "the latest record is kept")
        #expect(try await AcknowledgeFixture.calls(redis, "lrem") == 3, "n1, b, e searched; n2 not: both older entries were found")
    }

    @Test func anIdFinishingAgainLastInItsBatchIsStillMovedToTheFront() async throws {
        let server = try RedisServer()
        defer { withExtendedLifetime(server) {} }
        let redis = try RedisClient(url: server.url)
        defer { redis.close() }
        _ = try await Self.add(redis, ["a", "1", "b", "1"])
        #expect(try await Self.add(redis, ["n1", "2", "n2", "2", "a", "2"]) == 4)
        let ids = (try await redis.send("LRANGE", "h:ids", "0", "-1").array ?? []).compactMap(\.string)
        #expect(ids == ["a", "n2", "n1", "b"], "\(ids)")
    }
}

/// history.lua's `history_unlist_older`, which the acknowledgement's upkeep runs after its `MULTI` pushed the ids
/// (decision 0062): every list entry of the id but the newest goes, and its legacy entry; a lone entry stays.
@Suite struct HistoryUnlistOlderTests {
    private static func unlist(_ redis: RedisClient, _ id: String) async throws -> Int? {
        let script = String(decoding: PackageResources.history_lua, as: UTF8.self)
            + "\nreturn history_unlist_older(KEYS[1], KEYS[2], ARGV[1])"
        return try await redis.send(RedisCommand("EVAL", [script, "2", "h:ids", "h:legacy", id])).int
    }

    @Test func theNewestEntryOfAnIdStaysAndTheOlderOnesGo() async throws {
        let server = try RedisServer()
        defer { withExtendedLifetime(server) {} }
        let redis = try RedisClient(url: server.url)
        defer { redis.close() }
        try await redis.send(RedisCommand("RPUSH", ["h:ids", "a", "b", "a", "c", "a", "d"]))
        try await redis.send("ZADD", "h:legacy", "1", "a")
        #expect(try await Self.unlist(redis, "a") == 2, "older list entries and the legacy one")
        #expect(try await redis.send("LRANGE", "h:ids", "0", "-1").array?.compactMap(\.string) == ["a", "b", "c", "d"])
        #expect(try await redis.send("EXISTS", "h:legacy").int == 0)
        #expect(try await Self.unlist(redis, "b") == 0, "listed once: nothing to remove")
        #expect(try await Self.unlist(redis, "zz") == 0)
        #expect(try await redis.send("LLEN", "h:ids").int == 4)
    }
}

import Foundation
import Redis
import TestSupport
import Testing

@testable import HoopoeCore

/// What the acknowledgement's suites share: a server of each test's own (so INFO commandstats counts only its
/// commands), a stream read in part by one consumer, what is left of it, and a command's calls.
enum AcknowledgeFixture {
    /// Runs `body` against a store on a server of its own (so INFO commandstats counts only this test's commands).
    static func withOwnServer(_ body: (JobStore, RedisClient) async throws -> Void) async throws {
        let server = try RedisServer()
        defer { withExtendedLifetime(server) {} }
        let redis = try RedisClient(url: server.url)
        defer { redis.close() }
        try await body(JobStore(redis: redis, namespace: "t"), redis)
    }

    /// A stream of `count` jobs of which the first `delivered` were read by one consumer: their entry ids, in order.
    static func stream(_ store: JobStore, count: Int, delivered: Int) async throws -> [String] {
        try await store.createGroups(queues: ["default"])
        var ids: [String] = []
        for index in 0..<count {
            var xadd = RedisCommand("XADD", store.keys("default").stream, "*", "job")
            xadd.append(bytes: JobEnvelope(id: "j\(index)", type: "test.ack").encoded())
            ids.append(try #require(try await store.redis.send(xadd).string))
        }
        let read = try await store.redis.send(
            "XREADGROUP", "GROUP", QueueKeys.group, "c1", "COUNT", String(delivered), "STREAMS", store.keys("default").stream, ">")
        #expect(read.array?.first?.array?.last?.array?.count == delivered)
        return ids
    }

    static func remaining(_ store: JobStore) async throws -> [String] {
        (try await store.redis.send("XRANGE", store.keys("default").stream, "-", "+").array ?? []).compactMap { $0.array?.first?.string }
    }

    static func calls(_ redis: RedisClient, _ command: String) async throws -> Int {
        let stats = try await redis.send("INFO", "commandstats").string ?? ""
        guard let line = stats.split(whereSeparator: \.isNewline).first(where: { $0.hasPrefix("cmdstat_\(command):") }),
              let calls = line.split(separator: ",").first?.split(separator: "=").last
        else { return 0 }
        return Int(calls) ?? 0
    }
}

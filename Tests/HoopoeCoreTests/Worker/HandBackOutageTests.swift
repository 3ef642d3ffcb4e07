import Foundation
import HoopoeJSON
import Redis
import TestSupport
import Testing

@testable import HoopoeCore

/// A hand-back (at shutdown, at a pause) while Redis is down past the client's reconnect window (3 s): it is tried
/// again, the leases still held, and lands once Redis is back, so the jobs return to their queue unspent. Before, it
/// gave up at once; the jobs came back after their lease as second deliveries, and a `max_attempts: 1` job that never
/// ran was buried as "worker lost". A private `redis-server` with an append-only file, stopped and started on its port.
/// A suite of the heavy phase (`HEAVY_SUITES`): its outage is timing.
@Suite(.serialized) struct HandBackOutageTests {
    /// `count` jobs of `default`'s `stream` delivered to consumer `me`, as the worker holds them.
    static func fetch(_ count: Int, from stream: String, on redis: RedisClient) async throws -> [FetchedJob] {
        let read = try await redis.send("XREADGROUP", "GROUP", QueueKeys.group, "me", "COUNT", String(count), "STREAMS", stream, ">")
        let fetched = (read.array?.first?.array?.last?.array ?? []).compactMap { entry -> FetchedJob? in
            guard let id = entry.array?.first?.string, let bytes = entry.array?.last?.array?.last?.bytes else { return nil }
            return FetchedJob(queue: "default", entryID: id, bytes: bytes, deliveries: 1)
        }
        try #require(fetched.count == count)
        return fetched
    }

    @Test func aHandBackSentWhenRedisIsBackReturnsTheJobsUnspent() async throws {
        let server = try RedisServer(arguments: ["--appendonly", "yes"])
        let redis = try RedisClient(url: server.url)
        defer { redis.close() }
        let jobs = JobQueue(redis: redis, namespace: TestRedis.uniquePrefix("handback-outage"))
        let stream = jobs.keys("default").stream
        try await jobs.store.createGroups(queues: ["default"])
        for n in 0..<2 {
            try await jobs.enqueue(type: "diag.record", payload: .object(["key": "k", "member": .string("p\(n)")]), options: EnqueueOptions(maxAttempts: 1))
        }
        let fetched = try await Self.fetch(2, from: stream, on: redis)
        let leases = Leases()
        leases.hold(fetched)
        let handBack = HandBack(store: jobs.store, leases: leases, logger: EngineHarness.quietLogger, consumer: "me", unsentRetry: .seconds(20))

        server.stop()
        let handing = Task { await handBack(fetched) }
        try await Task.sleep(for: .seconds(4.5))  // past the 3 s reconnect window: the first call failed unsent
        #expect(leases.snapshot().flatMap(\.entryIDs).count == 2, "the leases are held while it is tried again")
        try server.start()
        #expect(await handing.value, "handed back")

        #expect(try await redis.send("XPENDING", stream, QueueKeys.group).array?.first?.int == 0, "the old deliveries are gone")
        let entries = try await redis.send("XRANGE", stream, "-", "+").array ?? []
        #expect(entries.count == 2 && !entries.contains { fetched.map(\.entryID).contains($0.array?.first?.string ?? "") }, "handed back anew: \(entries)")
        #expect(leases.snapshot().flatMap(\.entryIDs).isEmpty, "released once handed back")
    }

    /// "Stop now" (a second SIGTERM) while Redis is away: the hand-back was tried again for its whole 30 s, and the
    /// worker that `--help` says "stops at once" looked hung. Cut, it gives up at its next failure; the leases go, and
    /// the jobs return after them.
    @Test func aCutHandBackGivesUpAtItsNextFailure() async throws {
        let server = try RedisServer()
        let redis = try RedisClient(url: server.url)
        defer { redis.close() }
        let jobs = JobQueue(redis: redis, namespace: TestRedis.uniquePrefix("handback-cut"))
        let stream = jobs.keys("default").stream
        try await jobs.store.createGroups(queues: ["default"])
        try await jobs.enqueue(type: "diag.record", payload: .object(["key": "k", "member": "m"]))
        let fetched = try await Self.fetch(1, from: stream, on: redis)
        let leases = Leases()
        leases.hold(fetched)
        let cutoff = RetryCutoff()
        let handBack = HandBack(store: jobs.store, leases: leases, logger: EngineHarness.quietLogger, consumer: "me", unsentRetry: .seconds(600), cutoff: cutoff)
        server.stop()
        let handing = Task { await handBack(fetched) }
        try await Task.sleep(for: .seconds(4.5))  // past the reconnect window: failed unsent, and tried again
        #expect(leases.snapshot().flatMap(\.entryIDs).count == 1, "still trying")
        cutoff.cutNow()
        let cut = ContinuousClock.now
        #expect(await handing.value == false, "given up, not handed back")
        #expect(ContinuousClock.now - cut < .seconds(60), "gave up at its next failure, not after its 600 s")
        #expect(leases.snapshot().flatMap(\.entryIDs).isEmpty, "the lease released: the job returns after it")
    }
}

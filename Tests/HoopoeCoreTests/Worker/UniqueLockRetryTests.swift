import Foundation
import HoopoeJSON
import Redis
import TestSupport
import Testing

@testable import HoopoeCore

/// A unique key is held while its job is pending or running: a retry due days later keeps the lock past it (the
/// enqueue gave it a day past the first run), so a second enqueue with the key is still refused.
@Suite struct UniqueLockRetryTests {
    /// Fails every run with a retry three days later.
    struct FailsForDays: JobHandler {
        struct Payload: Codable, Sendable {}
        static let type = "test.fails_for_days"
        func run(_ payload: Payload, context: JobContext) async throws {
            throw JobFailure.retry("not yet", at: Date().timeIntervalSince1970 + 3 * 86_400)
        }
    }

    @Test func aRetryKeepsTheUniqueLockUntilADayAfterItIsDue() async throws {
        let h = try EngineHarness()
        var registry = JobRegistry.diagnostic
        registry.register(FailsForDays())
        let held = try #require(try await h.jobs.enqueue(type: FailsForDays.type, payload: .object([:]), options: EnqueueOptions(uniqueKey: "order-7")).createdID)
        // A window the enqueuer chose is kept as it is.
        try await h.jobs.enqueue(type: FailsForDays.type, payload: .object([:]), options: EnqueueOptions(uniqueKey: "window", uniqueFor: .seconds(600)))
        let keys = h.jobs.keys("default")
        #expect(try await h.redis.send("TTL", keys.unique("order-7")).int ?? .max <= 86_400)
        let (worker, task) = h.startWorker(registry)
        #expect(try await h.eventually { try await h.jobs.info(queue: "default").scheduled == 2 })
        worker.shutdown()
        try await task.value

        let ttl = try await h.redis.send("TTL", keys.unique("order-7")).int ?? 0
        #expect(ttl > 4 * 86_400 - 120 && ttl <= 4 * 86_400, "a day past the retry: \(ttl) s")
        #expect(try await h.redis.send("GET", keys.unique("order-7")).string == held)
        #expect(try await h.redis.send("TTL", keys.unique("window")).int ?? .max <= 600)
        let again = try await h.jobs.enqueue(type: FailsForDays.type, payload: .object([:]), options: EnqueueOptions(uniqueKey: "order-7"))
        #expect(again.createdID == nil, "still refused while the retry waits")
    }
}

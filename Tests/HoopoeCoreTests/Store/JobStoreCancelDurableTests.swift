import Foundation
@testable import HoopoeCore
import HoopoeJSON
import Redis
import TestSupport
import Testing

/// Every cancel is durable with `REDIS_WAIT_REPLICAS` set, not only a held job's: a failover must not bring back a job
/// its canceller was told is cancelled. With no replica to acknowledge, a ready job's and a scheduled job's cancels say
/// so (the write is not undone) instead of answering `cancelled`.
@Suite struct DurableCancelTests {
    @Test func readyAndScheduledCancelsWaitForTheReplicas() async throws {
        var configuration = try RedisConfiguration(url: try TestRedis.url())
        configuration.waitReplicas = 1
        configuration.waitTimeout = .milliseconds(50)
        let redis = RedisClient(configuration: configuration)
        defer { redis.close() }
        let space = try TestNamespace()
        let jobs = JobQueue(redis: redis, namespace: space.namespace)
        // Enqueued without the wait (the enqueue is durable too), cancelled with it.
        let ready = try #require(try await space.jobs.enqueue(type: "diag.record", payload: .object([:])).createdID)
        let later = try #require(try await space.jobs.enqueue(type: "diag.record", payload: .object([:]), options: .after(.seconds(3600))).createdID)
        for id in [ready, later] {
            do {
                let result = try await jobs.cancel(id: id, queue: "default", holderWait: .zero)
                Issue.record("cancelled without waiting for a replica: \(result)")
            } catch let error as RedisError {
                #expect(error.code == .notReplicated, "\(error)")
            }
        }
    }
}

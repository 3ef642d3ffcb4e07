import Foundation
import Redis
import TestSupport
import Testing

@testable import HoopoeCore

/// A starting worker deletes the consumers of earlier workers that hold nothing (`JobStore+Consumers.swift`): every
/// start added one to each queue it took a job from, never deleted. A consumer that holds a delivery is never deleted:
/// its job would leave the pending list and never run again.
@Suite struct ConsumerPruneTests {
    @Test func consumersHoldingNothingGoAndOnesHoldingADeliveryStay() async throws {
        let space = try TestNamespace()
        let store = space.jobs.store
        let stream = store.keys("default").stream
        try await store.createGroups(queues: ["default"])
        for index in 0..<4 { try await space.redis.send("XADD", stream, "*", "job", "j\(index)") }
        // Three finished workers (a delivery each, acknowledged) and one that still holds its delivery.
        for consumer in ["gone-1", "gone-2", "gone-3", "holding"] {
            let reply = try await space.redis.send("XREADGROUP", "GROUP", QueueKeys.group, consumer, "COUNT", "1", "STREAMS", stream, ">")
            let id = try #require(reply.array?.first?.array?.last?.array?.first?.array?.first?.string)
            if consumer != "holding" { try await space.redis.send("XACK", stream, QueueKeys.group, id) }
        }
        #expect(try await store.pruneIdleConsumers(queue: "default", idle: .seconds(3600)) == 0, "none idle for an hour yet")
        #expect(try await store.pruneIdleConsumers(queue: "default", idle: .zero) == 3)
        let left = try await space.redis.send("XINFO", "CONSUMERS", stream, QueueKeys.group).array ?? []
        let names = left.compactMap { $0.array?[1].string }
        #expect(names == ["holding"])
        #expect(try await space.redis.send("XPENDING", stream, QueueKeys.group).array?.first?.int == 1)
    }

    /// A worker starting prunes: consumers of earlier workers idle for the limit and holding nothing are gone.
    @Test func aStartingWorkerPrunes() async throws {
        let h = try EngineHarness()
        let stream = h.jobs.keys("default").stream
        try await h.jobs.store.createGroups(queues: ["default"])
        try await h.redis.send("XADD", stream, "*", "job", "x")
        let reply = try await h.redis.send("XREADGROUP", "GROUP", QueueKeys.group, "earlier", "COUNT", "1", "STREAMS", stream, ">")
        let id = try #require(reply.array?.first?.array?.last?.array?.first?.array?.first?.string)
        try await h.redis.send("XACK", stream, QueueKeys.group, id)
        var options = WorkerOptions.fastTest()
        options.consumerIdleLimit = .zero  // as if the earlier worker stopped longer ago than the limit
        let (worker, task) = h.startWorker(JobRegistry.diagnostic, options: options)
        #expect(try await h.eventually {
            let consumers = try await h.redis.send("XINFO", "CONSUMERS", stream, QueueKeys.group).array ?? []
            return !consumers.contains { $0.array?[1].string == "earlier" }
        })
        worker.shutdown()
        try await task.value
    }
}

import Foundation
import Redis
import TestSupport
import Testing

@testable import HoopoeCore

/// `hoopoe queues` and the health check read a queue's numbers in one pipeline: a refused read is an error, not zero.
@Suite struct QueueInfoErrorTests {
    @Test func aRefusedReadThrowsAndAnUnservedQueueReadsAsEmpty() async throws {
        let h = try EngineHarness()
        // A queue no worker served: no stream, no group. Zeros, no error.
        let empty = try await h.jobs.info(queue: "fresh")
        #expect(empty.ready == 0 && empty.inFlight == 0 && empty.dead == 0)
        // A stream without the workers' group (a service's XADD): NOGROUP from XPENDING is still "nobody holds it".
        try await h.redis.send("XADD", h.jobs.keys("xadded").stream, "*", "job", "{}")
        #expect(try await h.jobs.info(queue: "xadded").ready == 1)
        // The dead set's key holding another type (another application wrote it): the reply is an error, not 0 dead.
        try await h.redis.send("SET", h.jobs.keys("clobbered").dead, "x")
        await #expect(throws: RedisError.self) { try await h.jobs.info(queue: "clobbered") }
    }
}

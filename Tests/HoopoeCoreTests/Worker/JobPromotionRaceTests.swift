import Foundation
import HoopoeCore
import HoopoeJSON
import Redis
import TestSupport
import Testing

/// Four workers' promoters racing over one scheduled set of 100,000 due jobs: each job reaches the stream once.
///
/// A suite of its own in `make test`'s heavy phase (`HEAVY_SUITES`): it takes ~17–26 s of enqueueing and reading back
/// 100,000 envelopes in a debug build, and beside it in the parallel phase `WorkerTests`' in-process workers missed
/// their 10 s deadlines (3 of their tests failed in each of two runs on a 2-core VM).
@Suite struct JobPromotionRaceTests {
    @Test func fourConcurrentPromotersNeverDuplicateAJob() async throws {
        let h = try EngineHarness()
        let n = 100_000
        let due = Date().addingTimeInterval(3600)
        for chunk in stride(from: 0, to: n, by: 5_000) {
            _ = try await h.jobs.enqueueBatch((chunk..<chunk + 5_000).map {
                (type: "diag.record", payload: .object(["i": .integer(Int64($0))]), options: EnqueueOptions(runAt: due))
            })
        }
        #expect(try await h.jobs.info(queue: "default").scheduled == n)
        // Make them all due at once: every score becomes 0.
        try await h.jobs.store.makeScheduledDue(queue: "default")
        // Four workers' promoters race over the same scheduled set.
        let workers = (0..<4).map { _ in Worker(jobs: h.jobs, registry: .diagnostic, options: .fastTest(), logger: EngineHarness.quietLogger) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in workers {
                group.addTask {
                    while try await h.jobs.info(queue: "default").scheduled > 0 { try await worker.promote() }
                }
            }
            try await group.waitForAll()
        }
        #expect(try await h.redis.send("XLEN", h.jobs.keys("default").stream).int == n)
        var ids = Set<String>()
        var start = "-"
        while true {
            let page = try await h.redis.send("XRANGE", h.jobs.keys("default").stream, start, "+", "COUNT", "10000").array ?? []
            for entry in page { ids.insert(try JobEnvelope.decode(entry.array![1].array!.last!.bytes!).id) }  // the `job` field comes last
            guard page.count == 10_000 else { break }
            start = "(" + page.last!.array![0].string!
        }
        #expect(ids.count == n)
        try await h.redis.send("DEL", h.jobs.keys("default").stream)
    }
}

import Foundation
import HoopoeJSON
import Redis
import Synchronization
import TestSupport
import Testing

@testable import HoopoeCore

/// `hoopoe_jobs_total` counts what happened: a burial or a retry Redis refused (the job runs again after its lease,
/// and is counted where it settles then) was counted `dead` or `retried` all the same, and an alert on dead jobs fired
/// for one that was not in the dead set.
@Suite struct WorkerMetricsOutcomeTests {
    final class Outcomes: Sendable {
        private let seen = Mutex<[String]>([])
        func add(_ type: String, _ outcome: String) { seen.withLock { $0.append("\(type)/\(outcome)") } }
        var all: [String] { seen.withLock { $0 } }
    }

    @Test func aBurialRedisRefusedIsNotCountedDead() async throws {
        let h = try EngineHarness()
        let outcomes = Outcomes()
        _ = try await h.redis.send("SET", h.jobs.keys("default").dead, "not a sorted set")  // the burial's script fails
        try await h.jobs.enqueue(type: "no.such.type", payload: .object([:]))
        let key = "\(h.namespace):after"
        try await h.jobs.enqueue(type: "diag.record", payload: h.diag(key: key, member: "m"))
        let worker = Worker(
            jobs: h.jobs, registry: .diagnostic, options: .fastTest(concurrency: 1), logger: EngineHarness.quietLogger,
            metrics: WorkerMetrics { type, outcome, _ in outcomes.add(type, outcome) })
        let running = Task { try await worker.run() }
        // One at a time, in order: the job after it ran, so the burial was tried.
        #expect(try await h.eventually { outcomes.all.contains("diag.record/processed") }, "\(outcomes.all)")
        worker.shutdown()
        try await running.value
        #expect(!outcomes.all.contains { $0.hasSuffix("/dead") }, "\(outcomes.all)")
        #expect(try await h.redis.send("XPENDING", h.jobs.keys("default").stream, QueueKeys.group).array?.first?.int == 1, "the unknown job waits for its lease")
    }
}

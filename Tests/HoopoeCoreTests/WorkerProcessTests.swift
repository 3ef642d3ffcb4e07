import Foundation
import HoopoeCore
import HoopoeJSON
import Redis
import TestSupport
import Testing

/// The worker as a process: killed with SIGKILL, stopped with SIGTERM.
@Suite(.serialized) struct WorkerProcessTests {
    private func worker(_ h: EngineHarness, _ arguments: [String]) throws -> ChildProcess {
        try ChildProcess(BuiltProducts.hoopoe, ["worker"] + arguments, environment: [
            "REDIS_URL": try TestRedis.url(), "HOOPOE_NAMESPACE": h.namespace, "LOG_LEVEL": "warning",
        ])
    }

    @Test func sigkillLosesNothingAndRecoveryCountsAnAttempt() async throws {
        let h = try EngineHarness()
        let key = "\(h.namespace):crash"
        _ = try await h.jobs.enqueueBatch((0..<500).map { (type: "diag.record", payload: h.diag(key: key, member: "m\($0)", sleepMs: 3_000), options: EnqueueOptions()) })
        let lease = 3.0
        let first = try worker(h, ["--concurrency", "500", "--lease", "\(lease)"])
        #expect(try await h.eventually { try await h.jobs.info(queue: "default").inFlight == 500 }, "\(first.output)")
        first.signal(SIGKILL)
        let killedAt = ContinuousClock.now
        #expect(await first.wait(timeout: .seconds(5)) == 128 + SIGKILL)
        #expect(try await h.recorded(key).isEmpty, "every job was still sleeping when the worker died")

        let second = try worker(h, ["--concurrency", "500", "--lease", "\(lease)"])
        #expect(try await h.eventually(timeout: .seconds(30)) { try await h.recorded(key).count == 500 }, "\(second.output)")
        let recoveredWithin = ContinuousClock.now - killedAt
        // The jobs sleep 3 s in the second worker, so: lease + recovery step + 3 s of work.
        #expect(recoveredWithin < .seconds(lease + 5 + 3), "recovery took \(recoveredWithin)")
        let attempts = try await h.redis.send("HVALS", key + ":attempt").array?.compactMap(\.int) ?? []
        #expect(attempts.count == 500 && attempts.allSatisfy { $0 == 2 }, "lost runs count as attempts: \(Set(attempts))")
        second.signal(SIGTERM)
        #expect(await second.wait(timeout: .seconds(10)) == 0)
        let info = try await h.jobs.info(queue: "default")
        #expect(info.ready == 0 && info.inFlight == 0 && info.dead == 0)
    }

    @Test func sigtermFinishesWhatItCanAndHandsTheRestBackAtOnce() async throws {
        let h = try EngineHarness()
        let key = "\(h.namespace):term"
        var batch: [(type: String, payload: JSONValue, options: EnqueueOptions)] = []
        for i in 0..<200 {
            batch.append(("diag.record", h.diag(key: key, member: "m\(i)", sleepMs: i < 100 ? 200 : 20_000), EnqueueOptions()))
        }
        _ = try await h.jobs.enqueueBatch(batch)
        let process = try worker(h, ["--concurrency", "200", "--shutdown-timeout", "0.5"])
        #expect(try await h.eventually { try await h.jobs.info(queue: "default").inFlight == 200 }, "\(process.output)")
        #expect(try await h.eventually { try await h.recorded(key).count == 100 })
        process.signal(SIGTERM)
        let signalled = ContinuousClock.now
        #expect(try await h.eventually(timeout: .seconds(3)) {
            let info = try await h.jobs.info(queue: "default")
            return info.ready == 100 && info.inFlight == 0
        })
        let handedBackWithin = ContinuousClock.now - signalled
        #expect(handedBackWithin < .seconds(1.2), "hand-back took \(handedBackWithin)")
        #expect(await process.wait(timeout: .seconds(5)) == 0, "\(process.output)")
        let counters = try await h.jobs.counters(queue: "default")
        #expect(counters["processed"] == 100)
        #expect(counters["failed"] == nil && counters["dead"] == nil)
        #expect(try await h.recorded(key).count == 100)  // none lost: 100 done + 100 ready again
    }
}

import Foundation
import HoopoeCore
import Redis
import TestSupport
import Testing

/// A hand-back (and an acknowledgement) at shutdown with `REDIS_WAIT_REPLICAS` set and too few replicas: each ran on
/// the primary, so the worker must not log it as failed (operators would look for jobs that are in fact queued).
@Suite struct HandBackDurableTests {
    @Test func aHandBackTheReplicasDidNotConfirmIsLoggedAsDoneOnThePrimary() async throws {
        let h = try EngineHarness()
        let key = "\(h.namespace):held"
        _ = try await h.jobs.enqueueBatch((0..<4).map {
            (type: "diag.record", payload: h.diag(key: key, member: "m\($0)", sleepMs: 1_500), options: EnqueueOptions())
        })
        // The test Redis has no replica: every durable write (settles, the hand-back) reaches it and gets 0 of 1.
        let process = try ChildProcess(BuiltProducts.hoopoe, ["worker", "--queues", "default", "--concurrency", "1"], environment: [
            "REDIS_URL": try TestRedis.url(), "HOOPOE_NAMESPACE": h.namespace, "LOG_LEVEL": "info",
            "REDIS_WAIT_REPLICAS": "1", "REDIS_WAIT_TIMEOUT_MS": "50",
        ])
        defer { process.signal(SIGKILL) }
        #expect(try await h.eventually { try await h.jobs.info(queue: "default").inFlight >= 2 }, "one running, more prefetched: \(process.output)")
        process.signal(SIGTERM)
        #expect(await process.wait(timeout: .seconds(20)) == 0, "\(process.output)")

        // What happened: the prefetched jobs are on the queue again, their deliveries gone (not left for the lease).
        // (Under load the one running job may finish and the next start before the SIGTERM: count what ran.)
        let info = try await h.jobs.info(queue: "default")
        let ran = try await h.redis.send("SCARD", key).int ?? -1
        #expect(info.inFlight == 0 && info.ready >= 1 && info.ready + ran == 4, "\(info), ran \(ran)")
        // And the log says so, naming the replicas' missing confirmation.
        let line = process.output.split(separator: "\n").first { $0.contains("handed back") && $0.contains("jobs on") }
        #expect(line?.contains("on the primary, but too few replicas confirmed it") == true, "\(process.output)")
        #expect(line?.contains("0 of 1 replicas") == true, "\(process.output)")
        // ("shutting down: …, handing back N prefetched" announces it; a failed one says "handing back N jobs failed".)
        #expect(!process.output.contains("jobs failed") && !process.output.contains("not all handed back"), "not logged as a failed hand-back: \(process.output)")
        // The same for the running job's acknowledgement: done on the primary (it is not in flight above), unconfirmed.
        let ack = process.output.split(separator: "\n").first { $0.contains("acknowledged") && $0.contains("jobs on the primary") }
        #expect(ack?.contains("too few replicas confirmed it") == true, "\(process.output)")
        #expect(!process.output.contains("acknowledging"), "not logged as a failed acknowledgement: \(process.output)")
    }
}

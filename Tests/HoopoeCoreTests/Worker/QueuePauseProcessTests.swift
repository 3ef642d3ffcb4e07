import Foundation
import HoopoeCore
import HoopoeJSON
import Redis
import TestSupport
import Testing

/// Pause and resume of a queue for every worker (decision 0029), with real `hoopoe worker` processes: a pause stops
/// the queue (its jobs stay ready, none runs, delayed jobs still become ready), a resume starts it within about a
/// second, a worker started while the queue is paused takes nothing from it, and jobs a worker had fetched but not
/// started go back to the queue.
@Suite(.serialized) struct QueuePauseProcessTests {
    private func worker(_ h: EngineHarness, _ arguments: [String]) throws -> ChildProcess {
        try ChildProcess(BuiltProducts.hoopoe, ["worker"] + arguments, environment: [
            "REDIS_URL": try TestRedis.url(), "HOOPOE_NAMESPACE": h.namespace, "LOG_LEVEL": "info",
        ])
    }

    private func waitForWorkers(_ h: EngineHarness, _ count: Int) async throws -> Bool {
        try await h.eventually { try await h.jobs.liveProcesses().filter { $0.kind == "worker" }.count == count }
    }

    private func enqueue(_ h: EngineHarness, key: String, members: Range<Int>, queue: String = "default", runAt: Date? = nil) async throws {
        _ = try await h.jobs.enqueueBatch(members.map {
            (type: "diag.record", payload: h.diag(key: key, member: "m\($0)"), options: EnqueueOptions(queue: queue, runAt: runAt))
        })
    }

    @Test func pauseStopsAQueueForEveryWorkerAndResumeStartsItWithinASecond() async throws {
        let h = try EngineHarness()
        let key = "\(h.namespace):pause"
        let otherKey = "\(h.namespace):other"
        let workers = try (0..<2).map { _ in try worker(h, ["--queues", "default,other", "--concurrency", "4"]) }
        defer { for process in workers { process.signal(SIGKILL) } }
        #expect(try await waitForWorkers(h, 2))
        try await enqueue(h, key: key, members: 0..<5)
        #expect(try await h.eventually { try await h.recorded(key).count == 5 }, "the queue runs before the pause")

        #expect(try await h.jobs.pause(queue: "default"))
        #expect(try await h.jobs.pause(queue: "default") == false, "a second pause changes nothing")
        // Every worker picks the pause up within a second (each says so: waited for, not slept for); from then on none
        // takes a job of the queue.
        #expect(try await h.eventually { workers.allSatisfy { $0.output.contains("queue default paused") } }, "\(workers.map(\.output))")
        try await enqueue(h, key: key, members: 5..<25)
        try await enqueue(h, key: key, members: 25..<27, runAt: Date().addingTimeInterval(0.3))
        try await enqueue(h, key: otherKey, members: 0..<3, queue: "other")
        #expect(try await h.eventually { try await h.recorded(otherKey).count == 3 }, "a queue that is not paused still runs")
        #expect(try await h.eventually { try await h.jobs.info(queue: "default").scheduled == 0 }, "delayed jobs still become ready")
        try await Task.sleep(for: .seconds(1.5))
        let paused = try await h.jobs.info(queue: "default")
        #expect(try await h.recorded(key).count == 5, "no job of a paused queue runs: \(workers.map(\.output))")
        #expect(paused.ready == 22 && paused.inFlight == 0, "the paused queue's jobs stay ready: \(paused)")
        #expect(workers.allSatisfy { $0.output.contains("queue default paused") }, "\(workers.map(\.output))")

        #expect(try await h.jobs.resume(queue: "default"))
        let resumed = ContinuousClock.now
        #expect(try await h.eventually { try await h.recorded(key).count > 5 })
        let startedWithin = ContinuousClock.now - resumed
        // The workers read the pause every 0.5 s (± 20 %) and wake their blocked fetch: well under 1.5 s.
        #expect(startedWithin < .seconds(1.5), "resume took \(startedWithin) to start a job")
        #expect(try await h.eventually { try await h.recorded(key).count == 27 })
        #expect(try await h.jobs.resume(queue: "default") == false, "a second resume changes nothing")
        for process in workers { process.signal(SIGTERM) }
        for process in workers { #expect(await process.wait(timeout: .seconds(10)) == 0) }
    }

    @Test func aWorkerStartedWhileTheQueueIsPausedTakesNothingFromIt() async throws {
        let h = try EngineHarness()
        let key = "\(h.namespace):late"
        try await enqueue(h, key: key, members: 0..<10)
        #expect(try await h.jobs.pause(queue: "default"))
        let process = try worker(h, ["--queues", "default", "--concurrency", "4"])
        defer { process.signal(SIGKILL) }
        #expect(try await waitForWorkers(h, 1))
        try await Task.sleep(for: .seconds(1.5))
        #expect(try await h.recorded(key).isEmpty, "\(process.output)")
        let info = try await h.jobs.info(queue: "default")
        #expect(info.ready == 10 && info.inFlight == 0, "\(info)")
        #expect(try await h.jobs.resume(queue: "default"))
        #expect(try await h.eventually { try await h.recorded(key).count == 10 }, "\(process.output)")
        process.signal(SIGTERM)
        #expect(await process.wait(timeout: .seconds(10)) == 0)
    }

    /// A worker holds up to `prefetch` jobs it has not started; a pause hands those back to the queue at once,
    /// while the job already running finishes.
    @Test func aPauseHandsFetchedJobsBackAndLetsRunningOnesFinish() async throws {
        let h = try EngineHarness()
        let key = "\(h.namespace):held"
        _ = try await h.jobs.enqueueBatch((0..<6).map {
            (type: "diag.record", payload: h.diag(key: key, member: "m\($0)", sleepMs: 12_000), options: EnqueueOptions())  // the pause lands inside the first
        })
        let process = try worker(h, ["--queues", "default", "--concurrency", "1"])
        defer { process.signal(SIGKILL) }
        #expect(try await h.eventually { try await h.jobs.info(queue: "default").inFlight >= 2 }, "one running, more prefetched")
        // Running, not only fetched (pending in Redis is either): the heartbeat's `busy` counts running jobs (a beat
        // every 5 s, inside the first job's 12 s). A first job still in the buffer when the pause lands would be handed
        // back with the rest.
        #expect(try await h.eventually(timeout: .seconds(15)) { try await h.jobs.liveProcesses().first?.fields["busy"] == "1" }, "\(process.output)")
        #expect(try await h.jobs.pause(queue: "default"))
        let handedBack = try await h.eventually(timeout: .seconds(25)) {  // the running job's 12 s included
            let info = try await h.jobs.info(queue: "default")
            return info.inFlight == 0 && info.ready == 5
        }
        let info = try await h.jobs.info(queue: "default")
        #expect(handedBack, "\(info) \(process.output)")
        #expect(try await h.recorded(key).count == 1, "the running job finished")
        #expect(process.output.contains("handing back"), "\(process.output)")
        process.signal(SIGTERM)
        #expect(await process.wait(timeout: .seconds(10)) == 0)
    }
}

import Foundation
import HoopoeCore
import HoopoeJSON
import Redis
import TestSupport
import Testing

/// `hoopoe job show` of a finished job, and the history settings of `hoopoe worker`, with real processes.
@Suite struct JobHistoryCommandTests {
    @Test func jobShowOfAProcessedJobExitsZeroWithItsOutcome() async throws {
        let h = try CLIHarness()
        let worker = try await h.startWorker(["--queues", "default"])
        defer { worker.signal(SIGKILL) }
        let payload: JSONValue = .object(["key": .string("\(h.namespace):done"), "member": .string("m")])
        let id = try #require(try await h.jobs.enqueue(type: "diag.record", payload: payload).createdID)
        #expect(try await h.eventually(timeout: .seconds(30)) { try await h.jobs.counters(queue: "default")["processed"] == 1 })
        #expect(try await h.eventually(timeout: .seconds(30)) { try await h.run(["job", "show", id]).status == 0 })
        let (status, text) = try await h.run(["job", "show", id])
        #expect(status == 0)
        #expect(text.contains("state:       finished: processed"), "\(text)")
        #expect(text.contains("duration:    ") && text.contains(" s\n") && text.contains("worker:      ") && text.contains("finished:    "), "\(text)")
        #expect(text.contains("attempts:    1") && text.contains("id:          \(id)"), "\(text)")
        let (jsonStatus, json) = try await h.json(["job", "show", id, "--json"])
        #expect(jsonStatus == 0 && json["state"] == .string("finished") && json["outcome"] == .string("processed"), "\(json)")
        #expect(json["attempt"] == .integer(1) && json["duration"]?.doubleValue != nil && json["finished_at"]?.doubleValue != nil)
        let process = try #require(try await h.jobs.liveProcesses().first { $0.kind == "worker" })
        #expect(json["worker"] == .string(process.id), "the worker is named as `hoopoe queues` and the dashboard name it")
        #expect(json["envelope"]?["payload"]?["member"] == .string("m"))
    }

    /// Many more jobs than the configured cap: the history holds exactly the cap (the worker read it from the
    /// environment), and the newest job is still found.
    @Test func historyStaysWithinTheCapTheEnvironmentSets() async throws {
        let h = try CLIHarness()
        let total = 300
        let key = "\(h.namespace):cap"
        let ids = try await h.jobs.enqueueBatch((0..<total).map { n in
            (type: "diag.record", payload: JSONValue.object(["key": .string(key), "member": .string("m\(n)")]), options: EnqueueOptions())
        }).compactMap(\.createdID)
        let worker = try await h.startWorker(["--queues", "default"], environment: ["HOOPOE_HISTORY_MAX_JOBS": "20"])
        defer { worker.signal(SIGKILL) }
        #expect(try await h.eventually(timeout: .seconds(30)) { try await h.jobs.counters(queue: "default")["processed"] == total })
        let k = h.jobs.keys("default")
        #expect(try await h.redis.send("LLEN", k.historyIDs).int == 20)
        #expect(try await h.redis.send("HLEN", k.historyJobs).int == 20)
        #expect(try await h.run(["job", "show", try #require(ids.last)]).status == 0)
        #expect(try await h.run(["job", "show", try #require(ids.first)]).status == 1, "the oldest is trimmed")
    }

    @Test func aBadHistorySettingStopsTheWorkerWithExit78NamingIt() async throws {
        let h = try CLIHarness()
        for (key, value) in [("HOOPOE_HISTORY_MAX_JOBS", "lots"), ("HOOPOE_HISTORY_MAX_JOBS", "-1"), ("HOOPOE_HISTORY_MAX_AGE", "10")] {
            let (status, output) = try await h.run(["worker"], environment: [key: value])
            #expect(status == 78 && output.contains(key), "\(key)=\(value): \(status) \(output)")
        }
    }
}

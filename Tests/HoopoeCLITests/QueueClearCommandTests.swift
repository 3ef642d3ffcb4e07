import Foundation
import HoopoeCore
import HoopoeJSON
import Redis
import TestSupport
import Testing

/// `hoopoe queue clear NAME`, as an operator runs it against a flood: nothing without --yes, then the jobs of one type
/// removed and counted, the rest left; and with a real worker fetching, a paused queue's flood never runs.
struct QueueClearCommandTests {
    @Test func withoutYesNothingGoesThenOneTypeIsClearedAndCounted() async throws {
        let h = try CLIHarness()
        _ = try await h.jobs.enqueueBatch((0..<120).map { n in
            (type: n < 100 ? "sms.send" : "diag.record", payload: JSONValue.object(["n": .integer(Int64(n))]), options: EnqueueOptions(queue: "mail"))
        })
        try await h.jobs.enqueue(type: "sms.send", payload: .object([:]), options: EnqueueOptions(queue: "mail", runAt: Date().addingTimeInterval(600)))

        let (refused, refusal) = try await h.run(["queue", "clear", "mail", "--type", "sms.send"])
        #expect(
            refused == 64 && refusal.contains(
                "queue mail holds 120 ready job(s), of which those of type sms.send would be removed (counting them reads every job: --yes does). "
                    + "Nothing was removed: run again with --yes"), "\(refusal)")
        #expect(try await h.jobs.info(queue: "mail").ready == 120)

        let (status, output) = try await h.run(["queue", "clear", "mail", "--type", "sms.send", "--yes"])
        #expect(status == 0, "\(output)")
        #expect(output.contains("note: queue mail is not paused"), "\(output)")
        #expect(output.contains("cleared 100 ready jobs of type sms.send from queue mail; 20 of other types were left"), "\(output)")
        let info = try await h.jobs.info(queue: "mail")
        #expect(info.ready == 20 && info.scheduled == 1, "\(info)")

        let (_, json) = try await h.json(["queue", "clear", "mail", "--scheduled", "--yes", "--json"])
        #expect(json == ["queue": "mail", "cleared": 21, "fetched": 0, "other_types": 0], "\(json)")
        let (missing, missingOutput) = try await h.run(["queue", "clear", "mial", "--yes"])
        #expect(missing == 1 && missingOutput.contains("no queue named mial"), "\(missingOutput)")
    }

    /// A `--type` this build does not run is refused with the closest name, as `hoopoe enqueue` refuses it (exit 64,
    /// nothing removed), with or without --yes: `--type sms.sendd` once counted the whole queue in its dry run ("holds 3
    /// ready job(s); those of type sms.sendd would be removed") and, with --yes, cleared 0 and exited 0. Such jobs a
    /// client did send are cleared with --allow-unknown-type.
    @Test func aTypeThisBuildDoesNotRunIsRefusedWithTheClosestName() async throws {
        let h = try CLIHarness()
        _ = try await h.jobs.enqueueBatch((0..<3).map { n in
            (type: n < 2 ? "sms.send" : "sms.sendd", payload: JSONValue.object(["n": .integer(Int64(n))]), options: EnqueueOptions(queue: "default"))
        })
        for yes in [[], ["--yes"]] {
            let (status, output) = try await h.run(["queue", "clear", "default", "--type", "sms.sendd"] + yes)
            #expect(status == 64, "\(yes): \(output)")
            #expect(output.contains("--type: unknown job type 'sms.sendd'; did you mean sms.send?"), "\(output)")
            #expect(!output.contains("holds") && !output.contains("cleared"), "\(output)")
            #expect(try await h.jobs.info(queue: "default").ready == 3)
        }
        let (status, output) = try await h.run(["queue", "clear", "default", "--type", "sms.sendd", "--allow-unknown-type", "--yes"])
        #expect(status == 0 && output.contains("cleared 1 ready jobs of type sms.sendd from queue default; 2 of other types were left"), "\(output)")
        #expect(try await h.jobs.info(queue: "default").ready == 2)
    }

    /// The runbook: pause, clear, resume. A real worker serving the queue runs none of the flood, and runs what is
    /// enqueued after.
    @Test func aPausedQueuesFloodIsClearedBeforeAnyOfItRuns() async throws {
        let h = try CLIHarness()
        let key = "\(h.namespace):ran"
        try await h.jobs.enqueue(type: "diag.record", payload: .object([:]), options: EnqueueOptions(queue: "flood"))
        #expect(try await h.run(["queue", "pause", "flood"]).status == 0)
        let worker = try await h.startWorker(["--queues", "flood"])
        defer { worker.signal(SIGKILL) }
        _ = try await h.jobs.enqueueBatch((0..<500).map { n in
            (type: "diag.record", payload: JSONValue.object(["key": .string(key), "member": .string("flood-\(n)")]), options: EnqueueOptions(queue: "flood"))
        })
        let (status, output) = try await h.run(["queue", "clear", "flood", "--yes"])
        #expect(status == 0 && output.contains("cleared 501 ready jobs from queue flood"), "\(output)")
        #expect(try await h.run(["queue", "resume", "flood"]).status == 0)
        try await h.jobs.enqueue(type: "diag.record", payload: .object(["key": .string(key), "member": "after"]), options: EnqueueOptions(queue: "flood"))
        #expect(try await h.eventually(timeout: .seconds(30)) { try await h.redis.send("SISMEMBER", key, "after").int == 1 })
        #expect(try await h.redis.send("SCARD", key).int == 1, "none of the flood ran")
    }
}

import Foundation
import HoopoeCore
import HoopoeJSON
import Redis
import TestSupport
import Testing

/// What `hoopoe job show` shows beside the job, as the dashboard's job page does: its events (those it wrote, `job`;
/// those naming it, `job_id`; those about its message, `message_id`; phone numbers masked; no other job's), and the job
/// that enqueued it.
@Suite struct JobShowRelatedTests {
    @Test func theEventsAJobWroteOrThatNameItAreListedMasked() async throws {
        let h = try CLIHarness()
        let id = try #require(try await h.jobs.enqueue(type: "sms.send", payload: .object(["message_id": "m-1", "receptor": "09121234567"])).createdID)
        let events = "\(h.namespace):events"
        let at = String(format: "%.3f", Date().timeIntervalSince1970)
        for (type, data, job) in [
            ("provider.alert", #"{"code":"418","message":"marker-written 09121234567","operation":"send","provider":"kavenegar"}"#, id),
            ("sms.status", #"{"message_id":"m-1","provider":"kavenegar","raw_status":"10","state":"delivered"}"#, "a-poll"),
            ("provider.alert", #"{"code":"418","message":"marker-other","operation":"send","provider":"kavenegar"}"#, "other-job"),
            ("job.dead", #"{"attempt":1,"job_id":"other-job","job_type":"sms.send","queue":"default","reason":"marker-dead-other"}"#, ""),
        ] {
            var xadd = RedisCommand("XADD", events, "*", "type", type, "data", data, "at", at)
            if !job.isEmpty { xadd.append("job"); xadd.append(job) }
            _ = try await h.redis.send(xadd)
        }

        let (status, text) = try await h.run(["job", "show", id])
        #expect(status == 0 && text.contains("events (newest first, among the newest 2000 of the events stream):"), "\(text)")
        let lines = text.split(separator: "\n").filter { $0.hasPrefix("  ") && ($0.contains("provider.alert") || $0.contains("sms.status")) }
        #expect(lines.count == 2 && lines[0].contains("sms.status") && lines[1].contains("marker-written"), "newest first: \(lines)")
        #expect(!text.contains("marker-other") && !text.contains("marker-dead-other"), "only this job's: \(text)")
        #expect(!text.contains("9121234567"), "phone numbers masked: \(text)")

        let (jsonStatus, json) = try await h.json(["job", "show", id, "--json"])
        let listed = json["events"]?.arrayValue ?? []
        #expect(jsonStatus == 0 && listed.map { $0["type"] } == [.string("sms.status"), .string("provider.alert")], "\(json)")
        #expect(listed.last?["data"]?["message"]?.stringValue?.contains("9121234567") == false, "masked in JSON too: \(json)")
        #expect(listed.map { $0["job"] } == [.string("a-poll"), .string(id)], "\(json)")

        let quiet = try #require(try await h.jobs.enqueue(type: "diag.record", payload: .object([:])).createdID)
        let (_, none) = try await h.run(["job", "show", quiet])
        #expect(none.contains("events:      none among the newest 2000 of the events stream"), "\(none)")
    }

    @Test func aJobEnqueuedByAnotherNamesIt() async throws {
        let h = try CLIHarness()
        let child = try await CurrentJob.$id.withValue("parent-1") {
            try #require(try await h.jobs.enqueue(type: "diag.record", payload: .object([:])).createdID)
        }
        let (status, text) = try await h.run(["job", "show", child])
        #expect(status == 0 && text.contains("enqueued by: parent-1 (hoopoe job show parent-1)"), "\(text)")
        let (_, json) = try await h.json(["job", "show", child, "--json"])
        #expect(json["envelope"]?["enqueued_by"] == .string("parent-1"), "\(json)")
        let (_, plain) = try await h.run(["job", "show", try #require(try await h.jobs.enqueue(type: "diag.record", payload: .object([:])).createdID)])
        #expect(!plain.contains("enqueued by"), "\(plain)")
    }
}

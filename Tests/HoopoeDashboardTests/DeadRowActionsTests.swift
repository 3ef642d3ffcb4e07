import Foundation
import HTTPTypes
import HoopoeCore
import HoopoeDashboard
import Redis
import TestSupport
import Testing

/// The dead page's and the job page's Retry and Delete of one job: no Retry for a copy that can never run again, the
/// reason a retry was refused, a notice worded for its action, and the answer back on the page the click came from.
@Suite struct DeadRowActionsTests {
    /// Stores `text` as dead job `id` of the default queue, as the worker stores what it buries.
    private static func seed(_ harness: DashboardHarness, id: String, text: String) async throws {
        let keys = harness.jobs.keys("default")
        _ = try await harness.redis.pipeline([
            RedisCommand("ZADD", keys.dead, String(Date().timeIntervalSince1970), id), RedisCommand("HSET", keys.deadJobs, id, text),
        ])
    }

    /// A dead copy the worker kept of a payload too large: its start, as text (Worker.payloadCutNote in the reason).
    private static let cut = #"{"id":"big-sms","type":"sms.send","queue":"default","payload":"{\"phone\":\"0912","attempt":1,"enqueued_at":1795400000,"dead_reason":"invalid envelope: too large (the dead set keeps the first 16 bytes of its payload's 600000, as text)","died_at":1795400001}"#
    /// A dead copy of a type no handler declared, its secret-named keys withheld.
    private static let withheld = #"{"id":"held-keys","type":"legacy.signup","queue":"default","payload":{"user":"7"},"attempt":1,"enqueued_at":1795400000,"dead_reason":"no handler for type legacy.signup","died_at":1795400001,"withheld_keys":["password"]}"#

    /// The notice an action's redirect carries.
    private static func notice(_ reply: DashboardHarness.Reply) -> String {
        let location = reply.headers[.location] ?? ""
        return URLComponents(string: location)?.queryItems?.first { $0.name == "notice" }?.value ?? "(no notice in \(location))"
    }

    /// The table row of job `id` on a dead page.
    private static func row(_ page: String, _ id: String) -> String {
        page.components(separatedBy: "<tr>").first { $0.contains(">\(id)</a>") } ?? ""
    }

    @Test func aCopyThatCannotRunAgainHasNoRetryButton() async throws {
        let harness = try DashboardHarness()
        let fine = try await harness.bury(id: "fine", reason: "boom")
        try await Self.seed(harness, id: "big-sms", text: Self.cut)
        try await Self.seed(harness, id: "held-keys", text: Self.withheld)
        try await Self.seed(harness, id: "raw-text", text: "not an envelope at all")
        let page = try await harness.get("/dead?queue=default").text
        #expect(Self.row(page, fine).contains("<button>Retry</button>"), "\(Self.row(page, fine))")
        for id in ["big-sms", "held-keys", "raw-text"] {
            let row = Self.row(page, id)
            #expect(!row.isEmpty && !row.contains(">Retry<") && row.contains("cannot be retried"), "\(id): \(row)")
            #expect(row.contains(">Delete</button>"), "it can still be deleted: \(row)")
        }
        for id in ["big-sms", "held-keys"] {
            let job = try await harness.get("/job?queue=default&id=\(id)").text
            #expect(job.contains("dead") && !job.contains(">Retry<") && job.contains("cannot be retried"), "\(id): \(job)")
        }
        #expect(try await harness.get("/job?queue=default&id=fine").text.contains("<button>Retry</button>"))
    }

    /// One job retried says what `hoopoe dead retry` says: why it stays dead, or that it is gone.
    @Test func aRetryOfOneJobSaysWhyItWasRefused() async throws {
        let harness = try DashboardHarness()
        try await Self.seed(harness, id: "big-sms", text: Self.cut)
        try await Self.seed(harness, id: "held-keys", text: Self.withheld)
        let form = "csrf=\(harness.token.value)&queue=default&do=retry&id="
        let cut = Self.notice(try await harness.post("/dead/action", form + "big-sms"))
        #expect(cut.contains("dead job big-sms kept only the start of its payload") && cut.contains("enqueue it again from its source"), "\(cut)")
        #expect(!cut.contains("skipped"), "\(cut)")
        let held = Self.notice(try await harness.post("/dead/action", form + "held-keys"))
        #expect(held.contains("its payload lost password when it was buried"), "\(held)")
        let gone = Self.notice(try await harness.post("/dead/action", form + "no-such-job"))
        #expect(gone == "Retried 0 dead jobs of default: no-such-job is no longer dead (retried or deleted meanwhile).", "\(gone)")
        let fine = try await harness.bury(id: "fine")
        #expect(Self.notice(try await harness.post("/dead/action", form + fine)) == "Retried 1 dead job of default: fine is ready to run.")
        #expect(try await harness.deadCount() == 2)
        #expect(try await harness.streamLength() == 1)
    }

    /// A delete's notice speaks of deleting: a job already gone is "already gone", not "unable to run again, or its
    /// unique key held by another job".
    @Test func aDeleteOfAJobAlreadyGoneSaysSo() async throws {
        let harness = try DashboardHarness()
        let form = "csrf=\(harness.token.value)&queue=default&do=delete"
        let gone = Self.notice(try await harness.post("/dead/action", form + "&id=no-such-job"))
        #expect(gone == "Deleted 0 dead jobs of default: no-such-job was already gone.", "\(gone)")
        let kept = try await harness.bury(id: "kept")
        let mixed = Self.notice(try await harness.post("/dead/action", form + "&id=\(kept)&id=no-such-job"))
        #expect(mixed == "Deleted 1 dead job of default; 1 already gone.", "\(mixed)")
        let none = Self.notice(try await harness.post("/dead/action", form))
        #expect(none.hasPrefix("No dead job selected"), "\(none)")
    }

    /// The row forms and the selection's form carry the page's filter and position, so the answer is that page, not
    /// the queue's unfiltered first page.
    @Test func rowActionsComeBackToThePageTheyWereOn() async throws {
        let harness = try DashboardHarness(pageSize: 1)
        for index in 0..<3 { try await harness.bury(id: "j\(index)", type: "sms.send", reason: "provider timeout") }
        let page = try await harness.get("/dead?queue=default&type=sms.send&error=timeout&offset=1").text
        let (id, row) = try #require(["j0", "j1", "j2"].map { ($0, Self.row(page, $0)) }.first { !$0.1.isEmpty }, "\(page)")
        for field in ["name=\"type\" value=\"sms.send\"", "name=\"error\" value=\"timeout\"", "name=\"offset\" value=\"1\""] {
            #expect(row.components(separatedBy: field).count == 3, "Retry and Delete carry \(field): \(row)")
            let selected = page.components(separatedBy: "<form id=\"selected\"").last?.components(separatedBy: "</form>").first ?? ""
            #expect(selected.contains(field), "the selection's form carries \(field): \(selected)")
        }
        let reply = try await harness.post(
            "/dead/action", "csrf=\(harness.token.value)&queue=default&type=sms.send&error=timeout&offset=1&do=delete&id=\(id)")
        let location = reply.headers[.location] ?? ""
        #expect(location.hasPrefix("/dead?queue=default&type=sms.send&error=timeout&offset=1&notice=Deleted%201"), "\(location)")
    }
}

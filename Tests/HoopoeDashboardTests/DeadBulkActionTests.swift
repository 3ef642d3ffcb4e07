import Foundation
import HTTPTypes
import HoopoeCore
import HoopoeDashboard
import HoopoeJSON
import Redis
import TestSupport
import Testing

/// The dead page's "retry all" and "delete all": started by a POST that answers at once with a progress page, run in
/// the background a batch at a time, only on the filter's matches.
@Suite struct DeadBulkActionTests {
    /// Posts a bulk action and reloads its progress page until the run has finished; returns that page's text.
    private func runToTheEnd(_ harness: DashboardHarness, _ form: String) async throws -> String {
        let reply = try await harness.post("/dead/action", "csrf=\(harness.token.value)&" + form)
        #expect(reply.status == .seeOther)
        let location = try #require(reply.headers[.location])
        #expect(location.hasPrefix("/dead/progress?run="), "\(location)")
        for _ in 0..<1200 {
            let page = try await harness.get(location)
            if page.text.contains("bulk-state finished") {
                #expect(!page.text.contains("http-equiv=\"refresh\""), "a finished run's page stops reloading")
                return page.text
            }
            #expect(page.text.contains("bulk-state running"), "\(page.text)")
            #expect(page.text.contains("http-equiv=\"refresh\""), "a running run's page reloads itself")
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("the bulk action did not finish within a minute")
        return ""
    }

    @Test func retryAllMatchingMovesOnlyTheMatches() async throws {
        let harness = try DashboardHarness()
        try await harness.bury(type: "sms.send", reason: "provider timeout")
        try await harness.bury(type: "sms.send", reason: "provider timeout")
        let kept = try await harness.bury(type: "email.send", reason: "bad address")
        let page = try await runToTheEnd(harness, "queue=default&do=retry-all&error=timeout")
        #expect(page.contains("matching error text &quot;timeout&quot;"), "\(page)")
        #expect(page.contains("<dd class=\"done\">2</dd>") && page.contains("3 of 3 dead"), "\(page)")
        #expect(try await harness.deadCount() == 1)
        #expect(try await harness.jobs.deadJob(id: kept, queue: "default") != nil)
        #expect(try await harness.streamLength() == 2)
    }

    /// More than two batches, matches and others mixed in each: what a batch removes does not make the next skip any.
    @Test func deleteAllMatchingGoesThroughEveryBatch() async throws {
        let harness = try DashboardHarness()
        for index in 0..<1100 {
            try await harness.bury(type: index % 2 == 0 ? "sms.send" : "email.send", reason: index % 2 == 0 ? "drop me" : "keep me")
        }
        let page = try await runToTheEnd(harness, "queue=default&do=delete-all&type=sms.send")
        #expect(page.contains("<dd class=\"done\">550</dd>") && page.contains("1100 of 1100 dead"), "\(page)")
        #expect(try await harness.deadCount() == 550)
        let left = try await harness.jobs.deadJobs(queue: "default", offset: 0, limit: 1000)
        #expect(left.count == 550 && left.allSatisfy { $0.type == "email.send" })
    }

    /// One run a queue at a time, however many POSTs come at once (a double click, two operators): each is answered
    /// with the same run's progress page.
    @Test func simultaneousBulkActionsOnAQueueStartOneRun() async throws {
        let harness = try DashboardHarness()
        // Enough batches that the run is still going when the last POST comes (the POSTs are sent at once).
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<8 { group.addTask { for _ in 0..<2000 { _ = try await harness.bury() } } }
            try await group.waitForAll()
        }
        let locations = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<40 {
                group.addTask {
                    let reply = try await harness.post("/dead/action", "csrf=\(harness.token.value)&queue=default&do=delete-all")
                    return reply.headers[.location] ?? ""
                }
            }
            return try await group.reduce(into: [String]()) { $0.append($1) }
        }
        // The first starts run 1; the others are sent to its page ("already running").
        let runs = Set(locations.map { $0.split(separator: "&").first.map(String.init) ?? $0 })
        #expect(runs == ["/dead/progress?run=1"], "\(locations)")
        #expect(locations.filter { $0.contains("already%20running") }.count == 39, "\(locations)")
        _ = try await runToTheEnd(harness, "queue=default&do=delete-all")
        #expect(try await harness.deadCount() == 0)
    }

    @Test func deleteAllWithoutAFilterEmptiesTheQueuesDeadSetOnly() async throws {
        let harness = try DashboardHarness()
        for _ in 0..<3 { try await harness.bury() }
        try await harness.bury(queue: "mail")
        _ = try await runToTheEnd(harness, "queue=default&do=delete-all")
        #expect(try await harness.deadCount() == 0)
        #expect(try await harness.deadCount("mail") == 1)
    }

    @Test func aBulkActionIsRefusedWithoutTheTokenAndWhenReadOnly() async throws {
        let harness = try DashboardHarness()
        try await harness.bury()
        #expect(try await harness.post("/dead/action", "queue=default&do=retry-all").status == .forbidden)
        #expect(try await harness.post("/dead/action", "csrf=guess&queue=default&do=delete-all").status == .forbidden)
        let readOnly = try DashboardHarness(readOnly: true)
        try await readOnly.bury()
        #expect(try await readOnly.post("/dead/action", "csrf=\(readOnly.token.value)&queue=default&do=delete-all").status == .forbidden)
        try await Task.sleep(for: .milliseconds(200))
        #expect(try await harness.deadCount() == 1)
        #expect(try await readOnly.deadCount() == 1)
    }

    @Test func anUnknownRunSaysSo() async throws {
        let harness = try DashboardHarness()
        let page = try await harness.get("/dead/progress?run=999")
        #expect(page.status == .ok && page.text.contains("No such run"))
    }

    /// docs/operating.md says how many jobs a Retry all / Delete all moves a round trip: the number the dead page
    /// states (the run's batch). It said 500 while the runs went 100 at a time.
    @Test func theGuideStatesTheBatchTheRunsUse() async throws {
        let harness = try DashboardHarness()
        try await harness.bury()
        let page = try await harness.get("/dead?queue=default")
        let stated = try #require(page.text.firstMatch(of: /in the background, (\d+) jobs at a/)?.1, "\(page.text)")
        let guide = try String(contentsOf: BuiltProducts.projectRoot.appendingPathComponent("docs/operating.md"), encoding: .utf8)
        let documented = try #require(guide.firstMatch(of: /in the background of the dashboard process, (\d+) jobs a round trip/)?.1)
        #expect(documented == stated)
    }

    @Test func theFilterIsBoundedAndItsBoundsAreStated() async throws {
        let harness = try DashboardHarness()
        try await harness.bury()
        let long = String(repeating: "x", count: 300)
        let page = try await harness.get("/dead?queue=default&error=\(long)")
        #expect(page.text.contains("value=\"\(String(repeating: "x", count: 200))\"") && !page.text.contains(String(repeating: "x", count: 201)))
        #expect(page.text.contains("Type matches exactly; error text is found anywhere in the reason, ignoring case"))
        #expect(page.text.contains("in the background, 100 jobs at a"))
    }

    /// Three dead jobs a retry must skip, one for each reason, and one that goes back: a copy that can never run again
    /// (its payload cut), one whose unique key another job holds, and an id no longer dead.
    private func seedSkips(_ harness: DashboardHarness) async throws -> [String] {
        let keys = harness.jobs.keys("default")
        let cut = #"{"id":"big-sms","type":"sms.send","queue":"default","payload":"{\"phone\":\"0912","attempt":1,"enqueued_at":1795400000,"dead_reason":"invalid envelope: too large (the dead set keeps the first 16 bytes of its payload's 600000, as text)","died_at":1795400001}"#
        var unique = JobEnvelope(id: "held-key", type: "diag.record", queue: "default", enqueuedAt: Date().timeIntervalSince1970 - 60)
        unique.payload = .object([:])
        unique.uniqueKey = "report-7"
        unique.deadReason = "boom"
        unique.diedAt = Date().timeIntervalSince1970
        _ = try await harness.redis.pipeline([
            RedisCommand("ZADD", keys.dead, String(Date().timeIntervalSince1970), "big-sms"), RedisCommand("HSET", keys.deadJobs, "big-sms", cut),
            RedisCommand("ZADD", keys.dead, String(Date().timeIntervalSince1970), "held-key"),
            RedisCommand("HSET", keys.deadJobs, "held-key", String(decoding: unique.encoded(), as: UTF8.self)),
            RedisCommand("SET", keys.unique("report-7"), "another-job"),
        ])
        let fine = try await harness.bury(id: "fine")
        return ["big-sms", "held-key", fine]
    }

    /// A skipped job with a unique key was counted "waits for its unique key, held by another job" whatever kept it
    /// dead: here one whose key nobody holds, too large to run again with its attempts reset, beside one whose key
    /// another job does hold.
    @Test func aSkippedJobWithAUniqueKeyNobodyHoldsIsNotSaidToWaitForIt() async throws {
        let harness = try DashboardHarness()
        let keys = harness.jobs.keys("default")
        var big = JobEnvelope(id: "big-unique", type: "diag.record", queue: "default", enqueuedAt: Date().timeIntervalSince1970 - 60)
        big.payload = .object(["blob": .string(String(repeating: "x", count: harness.jobs.maxEnvelopeBytes))])
        big.uniqueKey = "report-8"
        big.deadReason = "boom"
        big.diedAt = Date().timeIntervalSince1970
        _ = try await harness.redis.pipeline([
            RedisCommand("ZADD", keys.dead, String(Date().timeIntervalSince1970), "big-unique"),
            RedisCommand("HSET", keys.deadJobs, "big-unique", String(decoding: big.encoded(), as: UTF8.self)),
        ])
        let ids = try await seedSkips(harness).filter { $0 != "big-sms" } + ["big-unique"]
        let reply = try await harness.post("/dead/action", "csrf=\(harness.token.value)&queue=default&do=retry" + ids.map { "&id=\($0)" }.joined())
        let location = reply.headers[.location] ?? ""
        let notice = URLComponents(string: location)?.queryItems?.first { $0.name == "notice" }?.value ?? "(none in \(location))"
        #expect(notice.hasPrefix("Retried 1 dead job of default; 2 skipped: "), "\(notice)")
        #expect(notice.contains("1 waits for its unique key") && notice.contains("1 for another reason (too large"), "\(notice)")
        #expect(try await harness.redis.send("EXISTS", keys.unique("report-8")).int == 0, "the look took no lock")
    }

    /// A retry of the selected said of its skipped jobs "N skipped (gone, unable to run again, or its unique key held
    /// by another job: retry each from its row for the reason)", and the retry-all's progress "N (gone meanwhile, or
    /// cannot run again)": now each reason with its count.
    @Test func aBatchRetrySaysHowManyWereSkippedAndWhy() async throws {
        let harness = try DashboardHarness()
        let ids = try await seedSkips(harness) + ["no-such-job"]
        let reply = try await harness.post("/dead/action", "csrf=\(harness.token.value)&queue=default&do=retry" + ids.map { "&id=\($0)" }.joined())
        let location = reply.headers[.location] ?? ""
        let notice = URLComponents(string: location)?.queryItems?.first { $0.name == "notice" }?.value ?? "(none in \(location))"
        #expect(notice.hasPrefix("Retried 1 dead job of default; 3 skipped: "), "\(notice)")
        #expect(notice.contains("1 gone meanwhile") && notice.contains("1 cannot run again") && notice.contains("1 waits for its unique key"), "\(notice)")
        #expect(!notice.contains("gone, unable to run again, or"), "\(notice)")

        let all = try DashboardHarness(name: "retryAllSkips")
        _ = try await seedSkips(all)
        let page = try await runToTheEnd(all, "queue=default&do=retry-all")
        let skipped = page.components(separatedBy: "<dd class=\"skipped\">").dropFirst().first?.components(separatedBy: "</dd>").first ?? ""
        #expect(skipped.hasPrefix("2 skipped: ") && skipped.contains("1 cannot run again") && skipped.contains("1 waits for its unique key"), "\(skipped)")
        #expect(page.contains("<dd class=\"done\">1</dd>"), "\(page)")
    }
}

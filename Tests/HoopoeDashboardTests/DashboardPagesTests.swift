import Foundation
import HTTPTypes
import HoopoeCore
import HoopoeDashboard
import HoopoeJSON
import HoopoeScheduler
import Redis
import TestSupport
import Testing

@Suite struct DashboardPagesTests {
    @Test func everyPageAnswers() async throws {
        let harness = try DashboardHarness()
        let id = try await harness.bury()
        try await harness.jobs.enqueue(type: "diag.record", payload: .object([:]), options: EnqueueOptions(queue: "default", runAt: Date() + 3600))
        for path in ["/", "/queues", "/busy", "/scheduled", "/dead", "/periodic", "/job?id=\(id)", "/job?id=missing", "/assets/app.js", "/favicon.ico"] {
            let reply = try await harness.get(path)
            #expect(reply.status == .ok, "\(path): \(reply.status)")
        }
        #expect(try await harness.get("/job?id=missing").text.contains("No job"))
    }

    /// Today's counters by outcome showed processed, failed, retried, dead and discarded only: an SMS put off by quiet
    /// hours (deferred) or a job that came before its run_at (early) showed under no outcome.
    @Test func theQueuesPageCountsDeferredAndEarlyJobs() async throws {
        let harness = try DashboardHarness()
        try await harness.jobs.enqueue(type: "diag.record", payload: .object([:]))
        try await harness.setTodaysCounters([("deferred:sms.send", "3"), ("early:diag.record", "2"), ("processed:diag.record", "5")])
        let page = try await harness.get("/queues").text
        let row = try #require(page.range(of: "<tr><td>default</td>").map { String(page[$0.lowerBound...].prefix(while: { $0 != "\n" })) })
        #expect(page.contains(">Deferred</th>") && page.contains(">Early</th>"), "the columns")
        let expected = #"<td class="num">5</td><td class="num">0</td><td class="num">0</td><td class="num">0</td><td class="num">0</td><td class="num">3</td><td class="num">2</td>"#
        #expect(row.contains(expected), "\(row)")
    }

    /// A `queue=` that names no known queue (new since the queue list was cached, or a typo) shows that queue, empty,
    /// never another queue's jobs with its "delete all" beside them; one that is no queue name says so.
    @Test func anUnknownQueueShowsItselfNotAnotherQueue() async throws {
        let harness = try DashboardHarness()
        let dead = try await harness.bury()
        let scheduled = try #require(
            try await harness.jobs.enqueue(type: "diag.record", payload: .object([:]), options: EnqueueOptions(queue: "default", runAt: Date() + 3600)).createdID)
        for (page, id) in [("/dead", dead), ("/scheduled", scheduled)] {
            let known = try await harness.get("\(page)?queue=default")
            #expect(known.text.contains(id), "\(page): \(known.text)")
            let unknown = try await harness.get("\(page)?queue=newq")
            #expect(unknown.status == .ok)
            #expect(!unknown.text.contains(id), "\(page): \(unknown.text)")
            #expect(unknown.text.contains("newq"), "\(page): \(unknown.text)")
            let invalid = try await harness.get("\(page)?queue=a%7Bb")
            #expect(invalid.text.contains("No queue can be named <code>a{b</code>"), "\(page): \(invalid.text)")
        }
    }

    @Test func listsArePagedNotLoadedWhole() async throws {
        let harness = try DashboardHarness(pageSize: 20)
        let later = Date() + 3600
        _ = try await harness.jobs.enqueueBatch((0..<45).map { _ in (type: "diag.record", payload: JSONValue.object([:]), options: EnqueueOptions(queue: "default", runAt: later)) })
        let first = try await harness.get("/scheduled?queue=default")
        #expect(first.text.components(separatedBy: "<tr><td><a href=\"/job").count - 1 == 20)
        #expect(first.text.contains("1–20 of 45"))
        let last = try await harness.get("/scheduled?queue=default&offset=40")
        #expect(last.text.components(separatedBy: "<tr><td><a href=\"/job").count - 1 == 5)
    }

    @Test func theDeadPageFiltersByTypeAndErrorText() async throws {
        let harness = try DashboardHarness()
        let sms = try await harness.bury(type: "sms.send", reason: "provider timeout")
        let mail = try await harness.bury(type: "email.send", reason: "bad address")
        let byType = try await harness.get("/dead?queue=default&type=sms.send")
        #expect(byType.text.contains(sms) && !byType.text.contains(mail))
        let byError = try await harness.get("/dead?queue=default&error=ADDRESS")
        #expect(byError.text.contains(mail) && !byError.text.contains(sms))
    }

    @Test func deletingAScheduledJobRemovesIt() async throws {
        let harness = try DashboardHarness()
        let result = try await harness.jobs.enqueue(type: "diag.record", payload: .object([:]), options: EnqueueOptions(queue: "default", runAt: Date() + 3600))
        let id = try #require(result.createdID)
        let reply = try await harness.post("/scheduled/delete", "csrf=\(harness.token.value)&queue=default&id=\(id)")
        #expect(reply.status == .seeOther)
        #expect(try await harness.jobs.store.scheduledCount(queue: "default") == 0)
    }

    /// A delete of a job no longer scheduled (promoted since the page was drawn) answers from the scheduled set alone:
    /// the lookup went on to read the whole stream, seconds on a large backlog, only to answer "nothing deleted". Here the
    /// stream's key holds a string, so any read of it would fail the request.
    @Test func deletingAJobNoLongerScheduledDoesNotReadTheStream() async throws {
        let harness = try DashboardHarness()
        try await harness.redis.send("SET", harness.jobs.keys("sched-gone").stream, "not a stream")
        let reply = try await harness.post("/scheduled/delete", "csrf=\(harness.token.value)&queue=sched-gone&id=promoted-meanwhile")
        #expect(reply.status == .seeOther)
        #expect((reply.headers[.location] ?? "").contains("no%20longer%20scheduled"), "\(reply.headers[.location] ?? "")")
    }

    /// A scheduled job whose stored text is not a readable envelope (a service's `FCALL hoopoe_enqueue` with a field of
    /// the wrong JSON type; here bytes that are not JSON), or whose text is missing, is listed "(unreadable)", and its
    /// Delete removes it and says so, without reading the stream (its key holds a string here). The delete answered "not
    /// deleted: it is no longer scheduled" while the job stayed in the set, after reading the whole stream.
    @Test func deletingAnUnreadableScheduledJobRemovesIt() async throws {
        let harness = try DashboardHarness()
        let k = harness.jobs.keys("sched-unreadable")
        let due = String(Date().timeIntervalSince1970 + 3600)
        var hset = RedisCommand("HSET", k.scheduledJobs, "not-json")
        hset.append(bytes: [0x80] + Array(" not json".utf8))
        _ = try await harness.redis.pipeline([
            hset, RedisCommand("ZADD", k.scheduled, due, "not-json"), RedisCommand("ZADD", k.scheduled, due, "no-text"),
            RedisCommand("SET", k.stream, "not a stream"),
        ])
        let list = try await harness.get("/scheduled?queue=sched-unreadable")
        #expect(list.text.contains("not-json") && list.text.contains("no-text") && list.text.contains("(unreadable)"), "\(list.text)")
        for id in ["not-json", "no-text"] {
            let reply = try await harness.post("/scheduled/delete", "csrf=\(harness.token.value)&queue=sched-unreadable&id=\(id)")
            #expect(reply.status == .seeOther, "\(id): \(reply.status) \(reply.text)")
            #expect((reply.headers[.location] ?? "").contains("notice=Deleted%20scheduled%20job%20\(id)."), "\(reply.headers[.location] ?? "")")
            #expect(try await harness.redis.send("ZSCORE", k.scheduled, id).isNull, "\(id) is still scheduled")
            #expect(try await harness.redis.send("HGET", k.scheduledJobs, id).isNull, "\(id)'s text is still stored")
        }
    }

    /// An offset past the end of a list (a "next" link kept while the jobs came due or were retried, or one typed) says
    /// nothing is past that position, with the total and a link to the first page. The pages said the queue was empty
    /// ("Nothing scheduled in default.", "No dead job in default.") with the scheduled pager reading "0–500 of 2".
    @Test func anOffsetPastTheEndSaysSoNotThatTheQueueIsEmpty() async throws {
        let harness = try DashboardHarness()
        for _ in 0..<2 {
            try await harness.jobs.enqueue(type: "diag.record", payload: .object([:]), options: EnqueueOptions(queue: "default", runAt: Date() + 3600))
            try await harness.bury()
        }
        let scheduled = try await harness.get("/scheduled?queue=default&offset=500")
        #expect(scheduled.status == .ok)
        #expect(!scheduled.text.contains("Nothing scheduled"), "\(scheduled.text)")
        #expect(scheduled.text.contains("holds 2 scheduled") && scheduled.text.contains(">0 of 2</span>"), "\(scheduled.text)")
        #expect(!scheduled.text.contains("–500"), "\(scheduled.text)")
        #expect(scheduled.text.contains("href=\"/scheduled?queue=default\""), "a link to the first page: \(scheduled.text)")
        #expect(!scheduled.text.contains("offset=450"), "previous leads to the last page with jobs, not to another empty one")
        let dead = try await harness.get("/dead?queue=default&offset=500")
        #expect(dead.status == .ok)
        #expect(!dead.text.contains("No dead job"), "\(dead.text)")
        #expect(dead.text.contains("holds 2 dead"), "\(dead.text)")
        #expect(dead.text.contains("href=\"/dead?queue=default\""), "a link to the first page: \(dead.text)")
        // The first page still says so when there is nothing at all.
        #expect(try await harness.get("/scheduled?queue=empty").text.contains("Nothing scheduled in empty."))
        #expect(try await harness.get("/dead?queue=empty").text.contains("No dead job in empty."))
    }

    /// "Run now" on the scheduled page and on a scheduled job's page: the job goes to the stream at once (ready), and a
    /// second press moves nothing and says so.
    @Test func runNowMovesAScheduledJobToItsStream() async throws {
        let harness = try DashboardHarness()
        let id = try #require(try await harness.jobs.enqueue(type: "diag.record", payload: .object([:]), options: EnqueueOptions(queue: "default", runAt: Date() + 3600)).createdID)
        let list = try await harness.get("/scheduled?queue=default")
        #expect(list.text.contains("action=\"/scheduled/run-now\"") && list.text.contains(">Run now</button>"), "\(list.text)")
        let page = try await harness.get("/job?id=\(id)&queue=default")
        #expect(page.text.contains("action=\"/scheduled/run-now\""), "\(page.text)")
        let reply = try await harness.post("/scheduled/run-now", "csrf=\(harness.token.value)&queue=default&id=\(id)")
        #expect(reply.status == .seeOther)
        #expect((reply.headers[.location] ?? "").contains("is%20ready%20to%20run%20now"), "\(reply.headers[.location] ?? "")")
        #expect(try await harness.jobs.store.scheduledCount(queue: "default") == 0)
        #expect(try await harness.jobs.find(id: id, queue: "default")?.state == .ready)
        let after = try await harness.get("/job?id=\(id)&queue=default")
        #expect(!after.text.contains("action=\"/scheduled/run-now\""), "offered for a scheduled job only")
        let again = try await harness.post("/scheduled/run-now", "csrf=\(harness.token.value)&queue=default&id=\(id)")
        #expect((again.headers[.location] ?? "").contains("nothing%20moved"), "\(again.headers[.location] ?? "")")
        let forged = try await harness.post("/scheduled/run-now", "queue=default&id=\(id)")
        #expect(forged.status == .forbidden, "no token, no action")
    }

    /// The job page cancels a ready job (and offers it only for a job not finished): it comes back finished, cancelled.
    @Test func cancellingAReadyJobFromItsPage() async throws {
        let harness = try DashboardHarness()
        let id = try #require(try await harness.jobs.enqueue(type: "diag.record", payload: .object([:]), options: EnqueueOptions(queue: "default")).createdID)
        let page = try await harness.get("/job?id=\(id)&queue=default")
        #expect(page.text.contains("action=\"/job/cancel\"") && page.text.contains(">Cancel</button>"), "\(page.text)")
        let reply = try await harness.post("/job/cancel", "csrf=\(harness.token.value)&queue=default&id=\(id)")
        #expect(reply.status == .seeOther)
        let location = reply.headers[.location] ?? ""
        #expect(location.contains("notice=Cancelled"), "\(location)")
        let after = try await harness.get("/job?id=\(id)&queue=default")
        #expect(after.text.contains("cancelled") && !after.text.contains("action=\"/job/cancel\""), "\(after.text)")
        let again = try await harness.post("/job/cancel", "csrf=\(harness.token.value)&queue=default&id=\(id)")
        #expect((again.headers[.location] ?? "").contains("nothing%20cancelled"), "\(again.headers[.location] ?? "")")
    }

    @Test func theBusyPageShowsJobsWorkersHold() async throws {
        let harness = try DashboardHarness()
        let result = try await harness.jobs.enqueue(type: "diag.record", payload: .object([:]), options: EnqueueOptions(queue: "default"))
        let id = try #require(result.createdID)
        // A worker's read: the consumer group delivers the entry to consumer "w1", which now holds it.
        let keys = harness.jobs.keys("default")
        _ = try await harness.redis.pipeline([RedisCommand("XGROUP", "CREATE", keys.stream, QueueKeys.group, "0", "MKSTREAM")])
        _ = try await harness.redis.send("XREADGROUP", "GROUP", QueueKeys.group, "w1", "COUNT", "1", "STREAMS", keys.stream, ">")
        let held = try await harness.jobs.store.heldEntries(queue: "default", limit: 10)
        #expect(held.map(\.consumer) == ["w1"])
        #expect(held.first?.envelope?.id == id)
        let page = try await harness.get("/busy")
        #expect(page.text.contains(id) && page.text.contains("w1"))
        #expect(!page.text.contains("Not every held job is listed"))
    }

    /// More held jobs than a page lists: the page says how many it shows of how many, not a silent cut (the overview's
    /// "in flight" read 150 while the page listed 50).
    @Test func theBusyPageSaysWhenItListsOnlyTheOldestHeldJobs() async throws {
        let harness = try DashboardHarness(pageSize: 2)
        _ = try await harness.jobs.enqueueBatch((0..<3).map { _ in (type: "diag.record", payload: JSONValue.object([:]), options: EnqueueOptions()) })
        let keys = harness.jobs.keys("default")
        _ = try await harness.redis.pipeline([RedisCommand("XGROUP", "CREATE", keys.stream, QueueKeys.group, "0", "MKSTREAM")])
        _ = try await harness.redis.send("XREADGROUP", "GROUP", QueueKeys.group, "w1", "COUNT", "3", "STREAMS", keys.stream, ">")
        let page = try await harness.get("/busy")
        #expect(page.text.contains("default: the oldest 2 of 3 held"), "\(page.text)")
    }
}

@Suite struct DashboardPeriodicTests {
    @Test func thePeriodicPageShowsTheSchedulersLastTickAndEnqueuesNow() async throws {
        let task = ScheduledTask(
            name: "nightly", cron: try CronExpression("0 3 * * *"), timeZone: TimeZone(identifier: "Asia/Tehran")!, type: "diag.incr",
            payload: .object(["key": "${HOOPOE_NAMESPACE}:k"]))
        let harness = try DashboardHarness(schedule: .file(path: "test.yaml", tasks: [task]))
        let before = try await harness.get("/periodic")
        #expect(before.text.contains("nightly") && before.text.contains("never"))
        // 2026-11-29 03:00 in Tehran, as a scheduler records it.
        try await RedisLastTickStore(redis: harness.redis, prefix: harness.jobs.namespace)
            .advanceLastTick(of: task, to: Date(timeIntervalSince1970: 1_795_908_600))
        let after = try await harness.get("/periodic")
        #expect(after.text.contains("2026-11-29 03:00:00 +03:30"), "\(after.text)")
        let reply = try await harness.post("/periodic/enqueue", "csrf=\(harness.token.value)&task=nightly")
        #expect(reply.status == .seeOther)
        #expect(try await harness.streamLength() == 1)
        // As a scheduler's tick: the namespace token filled in (the shipped canary's key), `tick` added.
        let entry = try await harness.redis.send("XRANGE", harness.jobs.keys("default").stream, "-", "+").array?.first
        let enqueued = try JobEnvelope.decode(try #require(entry?.array?[1].array?[1].bytes))
        #expect(enqueued.payload["key"] == .string("\(harness.jobs.namespace):k") && enqueued.payload["tick"] != nil, "\(enqueued.payload)")
        let unknown = try await harness.post("/periodic/enqueue", "csrf=\(harness.token.value)&task=other")
        #expect(unknown.status == .notFound)
        #expect(try await harness.streamLength() == 1)
    }

    /// An "Enqueue now" written but not acknowledged by the replicas REDIS_WAIT_REPLICAS asks for (none here) may have
    /// been done, and the page says so: "failed: Redis did not answer" invited a second click, and the task ran twice.
    @Test func anActionWithNoAnswerMayHaveBeenDoneAndSaysSo() async throws {
        let task = ScheduledTask(name: "nightly", cron: try CronExpression("0 3 * * *"), timeZone: TimeZone(identifier: "UTC")!, type: "diag.incr",
                                 payload: .object(["key": "k"]))
        let waiting = try RedisClient(url: try TestRedis.url() + "?wait_replicas=1&wait_timeout_ms=100")
        defer { waiting.close() }
        let harness = try DashboardHarness(schedule: .file(path: "test.yaml", tasks: [task]), redis: waiting)
        let reply = try await harness.post("/periodic/enqueue", "csrf=\(harness.token.value)&task=nightly")
        #expect(reply.status == .serviceUnavailable)
        #expect(reply.text.contains("may have been done") && reply.text.contains("Look before doing it again") && !reply.text.contains("failed"), "\(reply.text)")
        #expect(try await harness.streamLength() == 1, "it was written")
    }

    /// A page whose read the ACL refuses says so, naming the command, not "Redis did not answer" (docs/operating.md).
    @Test func aPageTheACLRefusesNamesTheCommand() async throws {
        let admin = try TestRedis.client()
        let user = "dash-narrow-\(UInt32.random(in: 0...UInt32.max))"
        try await admin.send(RedisCommand("ACL", ["SETUSER", user, "on", ">pw", "~*", "+@all", "-@read"]))
        defer { Task { _ = try? await admin.send("ACL", "DELUSER", user); admin.close() } }
        let url = try TestRedis.url().replacingOccurrences(of: "redis://", with: "redis://\(user):pw@")
        let narrow = try RedisClient(url: url)
        defer { narrow.close() }
        let harness = try DashboardHarness(redis: narrow)
        let page = try await harness.get("/dead")
        #expect(page.status == .serviceUnavailable)
        #expect(page.text.contains("refused") && page.text.contains("ACL") && !page.text.contains("did not answer"), "\(page.text)")
    }
}

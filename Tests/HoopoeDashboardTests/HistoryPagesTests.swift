import Foundation
import HTTPTypes
import HoopoeCore
import HoopoeDashboard
import HoopoeJSON
import Logging
import Redis
import TestSupport
import Testing

/// The pages over job history and the engine's counters: a finished job's page, the search, the overview's charts.
/// Jobs are run by a real in-process worker, so the pages read what the engine writes.
@Suite struct HistoryPagesTests {
    /// Stands in for `sendinblue.register`: its `password` is a secret, as the real handler declares.
    struct Register: JobHandler {
        struct Payload: Codable, Sendable {
            let email: String
            let password: String
        }
        static let type = "sendinblue.register"
        var redactedPayloadKeys: Set<String> { ["password"] }
        func run(_ payload: Payload, context: JobContext) async throws {}
    }

    /// Fails for good: a dead job with an error.
    struct Refuses: JobHandler {
        struct Payload: Codable, Sendable { let phone: String }
        static let type = "test.refuses"
        func run(_ payload: Payload, context: JobContext) async throws { throw JobFailure.permanent("refused \(payload.phone)") }
    }

    /// Puts itself off to a job it names, as `sms.send` does in quiet hours.
    struct Defers: JobHandler {
        struct Payload: Codable, Sendable { let next: String }
        static let type = "test.defers"
        func run(_ payload: Payload, context: JobContext) async throws {
            throw JobFailure.deferred("quiet hours: deferred as job \(payload.next)", to: payload.next)
        }
    }

    private func runAll(_ harness: DashboardHarness, expecting count: Int) async throws {
        var registry = JobRegistry()
        registry.register(DiagRecordJob())
        registry.register(Register())
        registry.register(Refuses())
        registry.register(Defers())
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let options = WorkerOptions(queues: QueueSelection(["default"]), concurrency: 4, fetchBlock: .milliseconds(200), shutdownTimeout: .seconds(2))
        let worker = Worker(jobs: harness.jobs, registry: registry, options: options, logger: logger)
        let task = Task { try await worker.run() }
        let done = try await eventually(timeout: .seconds(30)) { try await harness.jobs.store.historyCount(queue: "default") == count }
        worker.shutdown()
        try await task.value
        #expect(done, "the worker finished \(count) jobs")
    }

    @Test func aFinishedJobsPageShowsItsOutcomeAndNeverTheSecret() async throws {
        let harness = try DashboardHarness()
        let register = try #require(try await harness.jobs.enqueue(
            type: Register.type, payload: .object(["email": .string("sara@example.com"), "password": .string("S3cret-pass-991")])).createdID)
        let refused = try #require(try await harness.jobs.enqueue(type: Refuses.type, payload: .object(["phone": .string("+989121234567")])).createdID)
        try await runAll(harness, expecting: 2)

        let page = try await harness.get("/job?id=\(register)")
        #expect(page.status == .ok)
        #expect(page.text.contains("finished: <strong class=\"outcome processed\">processed</strong>"), "\(page.text)")
        #expect(page.text.contains("<dt>duration</dt>") && page.text.contains("<dt>worker</dt>") && page.text.contains("s***@example.com"))
        #expect(!page.text.contains("S3cret") && !page.text.contains("password"), "the secret is never on the page")

        let dead = try await harness.get("/job?id=\(refused)")
        #expect(dead.text.contains("refused +9891*****567") && !dead.text.contains("+989121234567"), "\(dead.text)")
    }

    @Test func aDeferredJobsPageLinksTheJobEnqueuedInItsPlace() async throws {
        let harness = try DashboardHarness()
        let old = try #require(try await harness.jobs.enqueue(type: Defers.type, payload: .object(["next": .string("NEXT-9")])).createdID)
        try await runAll(harness, expecting: 1)
        let page = try await harness.get("/job?id=\(old)")
        #expect(page.text.contains("finished: <strong class=\"outcome deferred\">deferred</strong>"), "\(page.text)")
        #expect(page.text.contains("<a class=\"deferred-to\" href=\"/job?id=NEXT-9&amp;queue=default\"><code>NEXT-9</code></a>"), "\(page.text)")
    }

    /// Deleting a scheduled job on the dashboard cancels it: job history keeps it as cancelled, without its secret.
    @Test func aJobDeletedFromTheScheduledPageIsFoundAsCancelled() async throws {
        let harness = try DashboardHarness()
        let id = try #require(try await harness.jobs.enqueue(
            type: Register.type, payload: .object(["email": .string("sara@example.com"), "password": .string("S3cret-pass-992")]),
            options: EnqueueOptions(runAt: Date() + 3600)).createdID)
        let reply = try await harness.post("/scheduled/delete", "csrf=\(harness.token.value)&queue=default&id=\(id)")
        #expect(reply.status == .seeOther)
        let page = try await harness.get("/job?id=\(id)")
        #expect(page.text.contains("finished: <strong class=\"outcome cancelled\">cancelled</strong>") && page.text.contains("s***@example.com"), "\(page.text)")
        #expect(!page.text.contains("S3cret"))
        let raw = try await harness.redis.send("HGET", harness.jobs.keys("default").historyJobs, id).string ?? ""
        #expect(!raw.isEmpty && !raw.contains("S3cret"), "\(raw)")
    }

    @Test func searchFindsJobsByPayloadFieldTypeAndIdAndSaysItsBound() async throws {
        let harness = try DashboardHarness()
        let key = "\(harness.jobs.namespace):search"
        let results = try await harness.jobs.enqueueBatch([42, 43, 44].map { user in
            (type: "diag.record", payload: JSONValue.object(["key": .string(key), "member": .string("m\(user)"), "user_id": .integer(Int64(user))]),
             options: EnqueueOptions())
        })
        let ids = results.compactMap(\.createdID)
        try await runAll(harness, expecting: 3)
        // One more, still waiting (scheduled): the search reads every place a job can be.
        let waiting = try #require(try await harness.jobs.enqueue(
            type: "diag.record", payload: .object(["key": .string(key), "member": .string("w"), "user_id": .integer(42)]),
            options: EnqueueOptions(runAt: Date() + 3600)).createdID)

        let byField = try await harness.get("/search?field=user_id%3D42")
        #expect(byField.status == .ok)
        #expect(byField.text.contains(ids[0]) && byField.text.contains(waiting), "\(byField.text)")
        #expect(!byField.text.contains(ids[1]) && !byField.text.contains(ids[2]))
        #expect(byField.text.contains("finished: processed") && byField.text.contains("scheduled"))
        #expect(byField.text.contains("Searches the newest 1000 finished jobs"))
        let byType = try await harness.get("/search?type=diag.")
        #expect(ids.allSatisfy { byType.text.contains($0) })
        let byID = try await harness.get("/search?id=\(ids[2])")
        #expect(byID.text.contains(ids[2]) && !byID.text.contains(ids[0]))
        let none = try await harness.get("/search?field=user_id%3D99")
        #expect(none.text.contains("No job matches"))
    }

    /// A dead job retried is ready again while its history record still says dead: the search shows where it is now,
    /// as the job page does, not "finished: dead" until it finishes again (after a "Retry all", every job looked as if
    /// the retry had done nothing).
    @Test func searchShowsARetriedDeadJobWhereItIsNow() async throws {
        let harness = try DashboardHarness()
        let id = try #require(try await harness.jobs.enqueue(
            type: Refuses.type, payload: .object(["phone": .string("none")]), options: EnqueueOptions(maxAttempts: 1)).createdID)
        try await runAll(harness, expecting: 1)
        let dead = try await harness.get("/search?id=\(id)")
        #expect(dead.text.contains("<td>dead</td>") || dead.text.contains("finished: dead"), "\(dead.text)")
        #expect(try await harness.jobs.retryDead(id: id, queue: "default"))
        for query in ["id=\(id)", "type=\(Refuses.type)"] {
            let page = try await harness.get("/search?\(query)")
            #expect(page.text.contains(id) && page.text.contains("ready or running") && !page.text.contains("finished: dead"), "\(query): \(page.text)")
        }
    }

    @Test func theOverviewChartsTheLastHourAndDayFromTheEngineCounters() async throws {
        let harness = try DashboardHarness()
        let key = "\(harness.jobs.namespace):chart"
        _ = try await harness.jobs.enqueueBatch((0..<5).map { n in
            (type: "diag.record", payload: JSONValue.object(["key": .string(key), "member": .string("m\(n)")]), options: EnqueueOptions())
        })
        _ = try await harness.jobs.enqueue(type: Refuses.type, payload: .object(["phone": .string("none")]))
        try await runAll(harness, expecting: 6)
        let page = try await harness.get("/")
        #expect(page.text.contains("aria-label=\"jobs per minute, last hour\"") && page.text.contains("aria-label=\"jobs per hour, last day\""))
        // Each column's tooltip has its count: over each chart they add up to what the worker did.
        for chart in ["jobs per minute, last hour", "jobs per hour, last day"] {
            #expect(Self.total("processed", in: chart, of: page.text) == 5, "\(chart): \(page.text)")
            #expect(Self.total("dead", in: chart, of: page.text) == 1, "\(chart)")
            #expect(Self.total("failed", in: chart, of: page.text) == 1, "\(chart)")
        }
    }

    /// The sum of the `<series>: N` tooltips in the chart labelled `label`.
    static func total(_ series: String, in label: String, of html: String) -> Int {
        guard let start = html.range(of: "aria-label=\"\(label)\""), let end = html.range(of: "</svg>", range: start.upperBound..<html.endIndex) else { return -1 }
        let svg = html[start.upperBound..<end.lowerBound]
        return svg.components(separatedBy: " \(series): ").dropFirst().reduce(0) { sum, part in sum + (Int(part.prefix { $0.isNumber }) ?? 0) }
    }
}

import Foundation
import HoopoeJSON
import Logging
import Redis
import Testing
import TestSupport

@testable import HoopoeCore
@testable import HoopoeJobs

/// What a domain job writes names it: every event (the stream's `job` field) and every job it enqueues
/// (`enqueued_by`), so the dashboard's job page and `hoopoe job show` can link them; written outside a job, neither.
@Suite("Domain jobs' events and enqueues name the job")
struct RunAsCurrentJobTests {
    @Test func anEventWrittenInsideAJobCarriesItsIdAndOneOutsideNone() async throws {
        let harness = try await DomainHarness()
        let log = EventLog(redis: harness.redis, namespace: harness.namespace)
        let at = Date(timeIntervalSince1970: 1_732_345_678)
        try await CurrentJob.$id.withValue("job-1") { try await log.emit(TestHappened(n: 1, label: "inside"), at: at) }
        try await log.emit(TestHappened(n: 2, label: "outside"), at: at)

        let entries = try await harness.redis.send("XRANGE", log.key, "-", "+").array ?? []
        let fields = entries.map { entry in (entry.array?[1].array ?? []).compactMap(\.string) }
        #expect(fields.first == ["type", "test.happened", "data", #"{"n":1,"name":"inside"}"#, "at", "1732345678.000", "job", "job-1"])
        #expect(fields.last == ["type", "test.happened", "data", #"{"n":2,"name":"outside"}"#, "at", "1732345678.000"])

        let written = try await log.recent(count: 10, writtenBy: "job-1")
        #expect(written.map(\.job) == ["job-1"] && written.first?.data["n"] == .integer(1))
        #expect(try await log.recent(count: 10).map(\.job) == [nil, "job-1"], "newest first")
    }

    /// The wrapper forwards what the worker reads of a handler: its type, attempts, timeout, retry policy and the
    /// payload keys kept out of the dead set, the paths named like secrets that are shown.
    @Test func theWrapperForwardsTheHandlersSettings() throws {
        var registry = JobRegistry()
        registry.register(RunAsCurrentJob(Unusual()))
        let entry = try #require(registry["test.unusual"])
        #expect(entry.maxAttempts == 3 && entry.timeout == .seconds(7) && entry.redactedPayloadKeys == ["secret"])
        #expect(entry.payloadPathsNamedLikeSecrets == ["meta.token"])
        #expect(entry.retryPolicy.delay(afterAttempt: 1, unit: 0.5) == 42)
        #expect(entry.payloadTypeName == "Payload")
    }

    /// A real `hoopoe worker`: the event a domain job writes (`freecredit.granted`) names the job by its id.
    @Test func aDomainJobsEventNamesTheJob() async throws {
        let harness = try await DomainHarness()
        try await harness.setClock(FreeCreditLimiterTests.noon)
        let worker = try await harness.startWorker()
        defer { worker.signal(SIGTERM) }
        let job = try #require(try await harness.enqueue(FreeCreditRequestJob.type, ["user_id": "176", "request_id": "req-1", "amount": 93]).createdID)
        _ = try await harness.waitForEvents("freecredit.granted")
        let written = try await EventLog(redis: harness.redis, namespace: harness.namespace).recent(count: 10, writtenBy: job)
        #expect(written.map(\.type) == ["freecredit.granted"])
    }

    /// A real `hoopoe worker`: the `gift.expire` a `gift.granted` schedules names the grant as `enqueued_by`.
    @Test func aJobADomainJobEnqueuesNamesIt() async throws {
        let harness = try await DomainHarness()
        try await harness.setClock(FreeCreditLimiterTests.noon)
        let worker = try await harness.startWorker()
        defer { worker.signal(SIGTERM) }
        let expiresAt = Int64(FreeCreditLimiterTests.noon.timeIntervalSince1970) + 3 * 86_400
        let grant = try #require(
            try await harness.enqueue(GiftGrantedJob.type, ["user_id": "176", "user_gift_id": "g-1", "expires_at": .integer(expiresAt)]).createdID)
        var expire: FoundJob?
        #expect(try await eventually(timeout: .seconds(20)) {
            expire = try await harness.jobs.find(id: "gift.expire:g-1", queue: "default")
            return expire != nil
        })
        #expect(expire?.envelope.enqueuedBy == grant, "\(String(describing: expire?.envelope))")
    }

    private struct Unusual: JobHandler {
        struct Payload: Decodable, Sendable {}
        static let type = "test.unusual"
        var maxAttempts: Int { 3 }
        var timeout: Duration { .seconds(7) }
        var retryPolicy: RetryPolicy { .fixed(42) }
        var redactedPayloadKeys: Set<String> { ["secret"] }
        var payloadPathsNamedLikeSecrets: Set<String> { ["meta.token"] }
        func run(_ payload: Payload, context: JobContext) async throws {}
    }
}

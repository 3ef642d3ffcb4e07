import Foundation
import HoopoeJSON
import Redis
import TestSupport
import Testing

@testable import HoopoeCore

/// Job history: every finished job is recorded by the script that settles it, and the history stays within its caps.
@Suite struct JobHistoryTests {
    /// Ends each job as its payload's `verdict` says.
    struct Verdicts: JobHandler {
        struct Payload: Codable, Sendable {
            let verdict: String
            let password: String?
        }
        static let type = "test.verdicts"
        var redactedPayloadKeys: Set<String> { ["password"] }
        var maxAttempts: Int { 1 }
        func run(_ payload: Payload, context: JobContext) async throws {
            switch payload.verdict {
            case "discard": throw JobFailure.discard("nothing to do for +989121234567")
            case "defer": throw JobFailure.deferred("quiet hours: deferred as job NEXT-1", to: "NEXT-1")
            case "permanent": throw JobFailure.permanent("the number is invalid")
            case "retry": throw JobFailure.retry("provider down")
            default: try await Task.sleep(for: .milliseconds(20))
            }
        }
    }

    private var registry: JobRegistry {
        var registry = JobRegistry.diagnostic
        registry.register(Verdicts())
        return registry
    }

    private func enqueue(_ h: EngineHarness, id: String, verdict: String, password: String? = nil, notify: Bool = false) async throws {
        var payload: [String: JSONValue] = ["verdict": .string(verdict)]
        if let password { payload["password"] = .string(password) }
        _ = try await h.jobs.enqueue(type: Verdicts.type, payload: .object(payload), options: EnqueueOptions(id: id, notify: notify))
    }

    private func record(_ h: EngineHarness, _ id: String) async throws -> HistoryRecord? {
        try await h.jobs.store.historyRecord(id: id, queue: "default")
    }

    @Test func aProcessedJobIsFoundWithItsOutcomeDurationAttemptAndWorker() async throws {
        let h = try EngineHarness()
        try await enqueue(h, id: "ok-1", verdict: "ok")
        let options = WorkerOptions.fastTest()
        let (worker, task) = h.startWorker(registry, options: options)
        #expect(try await h.eventually(timeout: .seconds(30)) { try await record(h, "ok-1") != nil })
        worker.shutdown()
        try await task.value
        #expect(try await h.jobs.find(id: "ok-1", queue: "default") == nil, "without `finished`, only waiting, running and dead jobs")
        let found = try #require(try await h.jobs.find(id: "ok-1", queue: "default", finished: true))
        guard case .finished(let record) = found.state else { Issue.record("state \(found.state)"); return }
        #expect(record.outcome == .processed && record.attempt == 1 && record.queue == "default" && record.type == Verdicts.type)
        // The handler sleeps 20 ms: seconds, not milliseconds (a unit off by 1,000 reads 20).
        #expect((record.duration ?? 0) >= 0.02 && (record.duration ?? 99) < 10, "\(String(describing: record.duration))")
        #expect(record.worker == options.consumer)
        #expect(abs(record.finishedAt - Date().timeIntervalSince1970) < 120)
        #expect(record.envelope?.payload["verdict"] == .string("ok") && found.envelope.attempt == 1)
        #expect(record.error == nil && record.deferredTo == nil)
    }

    @Test func discardedDeferredAndDeadJobsKeepTheirErrorAndTheDeferralItsLink() async throws {
        let h = try EngineHarness()
        try await enqueue(h, id: "gone", verdict: "discard")
        try await enqueue(h, id: "later", verdict: "defer", notify: true)
        try await enqueue(h, id: "dead", verdict: "permanent")
        try await enqueue(h, id: "retry", verdict: "retry")
        let (worker, task) = h.startWorker(registry)
        #expect(try await h.eventually(timeout: .seconds(30)) { try await h.jobs.store.historyCount(queue: "default") == 4 })
        worker.shutdown()
        try await task.value
        let gone = try #require(try await record(h, "gone"))
        #expect(gone.outcome == .discarded && gone.error == "nothing to do for +9891*****567", "phones masked: \(gone.error ?? "")")
        let later = try #require(try await record(h, "later"))
        #expect(later.outcome == .deferred && later.deferredTo == "NEXT-1" && later.error == "quiet hours: deferred as job NEXT-1")
        let dead = try #require(try await record(h, "dead"))
        #expect(dead.outcome == .dead && dead.error == "the number is invalid" && dead.attempt == 1 && dead.duration != nil)
        // max_attempts 1: the retry is its last attempt, so it is dead too, with the handler's error.
        let retry = try #require(try await record(h, "retry"))
        #expect(retry.outcome == .dead && retry.error == "provider down")
        // The deferral is counted as such, and its answer carries the link.
        let counters = try await h.jobs.counters(queue: "default")
        #expect(counters["deferred"] == 1 && counters["discarded"] == 1 && counters["dead"] == 2, "\(counters)")
        let answer = try await h.redis.send("LPOP", h.jobs.keys("default").answer("later")).bytes.flatMap(JSONValue.parse)
        #expect(answer?["outcome"] == .string("deferred") && answer?["deferred_to"] == .string("NEXT-1"))
    }

    /// The one redaction rule: a type's secret payload keys never reach the history; phone numbers are kept there
    /// (as in the dead set) and masked wherever a record is shown.
    /// A record is bounded whatever the envelope holds: a field this release does not know (a client's 100 KB `note`,
    /// written with a plain XADD: "unknown fields are kept") was stored whole in the record, only the payload dropped.
    @Test func aRecordStaysSmallWhenTheEnvelopesBulkIsOutsideItsPayload() async throws {
        let h = try EngineHarness()
        let note = String(repeating: "n", count: 100_000)
        try await h.redis.send("XADD", h.jobs.keys("default").stream, "*", "job",
            #"{"id":"bulky","type":"test.verdicts","queue":"default","payload":{"verdict":"ok"},"attempt":0,"enqueued_at":1,"note":"\#(note)"}"#)
        let (worker, task) = h.startWorker(registry, options: .fastTest())
        #expect(try await h.eventually(timeout: .seconds(30)) { try await record(h, "bulky") != nil })
        worker.shutdown()
        try await task.value
        let stored = try await h.redis.send("HSTRLEN", h.jobs.keys("default").historyJobs, "bulky").int ?? 0
        #expect(stored > 0 && stored <= HistoryRecord.maxEnvelopeBytes + 1_024, "\(stored) bytes")
        #expect(try await record(h, "bulky")?.envelope?.id == "bulky")
    }

    @Test func aSecretPayloadKeyIsNotKeptInHistory() async throws {
        let h = try EngineHarness()
        try await enqueue(h, id: "secret", verdict: "ok", password: "hunter2-secret")
        try await enqueue(h, id: "secret-dead", verdict: "permanent", password: "hunter3-secret")
        let (worker, task) = h.startWorker(registry)
        #expect(try await h.eventually(timeout: .seconds(30)) { try await h.jobs.store.historyCount(queue: "default") == 2 })
        worker.shutdown()
        try await task.value
        let all = try await h.redis.send("HGETALL", h.jobs.keys("default").historyJobs).array ?? []
        let text = all.compactMap(\.string).joined(separator: "\n")
        #expect(text.contains("\"verdict\":\"ok\"") && text.contains("secret-dead"), "\(text)")
        #expect(!text.contains("hunter2") && !text.contains("hunter3") && !text.contains("password"), "\(text)")
    }

    /// Many more jobs than the cap: the history keeps exactly the cap, the most recent ones, record and list alike;
    /// a record older than the age cap goes at the next settle, and so does what the sorted set of a release before
    /// decision 0033 held (one past the age cap, one recent: no room beside the list, full from the first settle).
    @Test func historyStaysWithinItsCapsByCountAndAge() async throws {
        let h = try EngineHarness()
        let k = h.jobs.keys("default")
        let now = Date().timeIntervalSince1970
        // Records from two hours ago, past a one-hour age cap: one at the list's old end, one in the legacy set.
        try await h.redis.send("RPUSH", k.historyIDs, "ancient")
        try await h.redis.send("HSET", k.historyJobs, "ancient", #"{"id":"ancient","type":"x","queue":"default","outcome":"processed","attempt":1,"finished_at":\#(now - 7200)}"#)
        try await h.redis.send("ZADD", k.legacyHistory, String(now - 7200), "legacy-ancient")
        try await h.redis.send("HSET", k.historyJobs, "legacy-ancient", #"{"id":"legacy-ancient","type":"x","outcome":"processed","finished_at":1}"#)
        try await h.redis.send("ZADD", k.legacyHistory, String(now - 10), "legacy-recent")
        try await h.redis.send("HSET", k.historyJobs, "legacy-recent", #"{"id":"legacy-recent","type":"x","outcome":"processed","finished_at":\#(now - 10)}"#)
        for n in 0..<25 {  // a full list of recent records
            try await h.redis.send("LPUSH", k.historyIDs, "seed-\(n)")
            try await h.redis.send("HSET", k.historyJobs, "seed-\(n)", #"{"id":"seed-\#(n)","type":"x","outcome":"processed","finished_at":\#(now - 20)}"#)
        }
        let total = 600
        _ = try await h.jobs.enqueueBatch((0..<total).map { n in
            (type: "diag.record", payload: h.diag(key: "\(h.namespace):cap", member: "m\(n)"), options: EnqueueOptions(id: "cap-\(n)"))
        })
        var options = WorkerOptions.fastTest()
        options.historyMaxJobs = 25
        options.historyMaxAge = .seconds(3600)
        let (worker, task) = h.startWorker(.diagnostic, options: options)
        #expect(try await h.eventually(timeout: .seconds(30)) { try await h.jobs.counters(queue: "default")["processed"] == total })
        worker.shutdown()
        try await task.value
        #expect(try await h.redis.send("LLEN", k.historyIDs).int == 25)
        #expect(try await h.redis.send("HLEN", k.historyJobs).int == 25)
        #expect(try await h.redis.send("EXISTS", k.legacyHistory).int == 0, "the legacy set is emptied")
        for id in ["ancient", "legacy-ancient", "legacy-recent", "seed-24", "cap-0"] {
            #expect(try await h.jobs.store.historyRecord(id: id, queue: "default") == nil, "\(id)")
        }
        // The newest are kept: the last jobs run are there, the first are gone.
        let kept = try await h.jobs.store.historyRecords(queue: "default", offset: 0, limit: 100)
        #expect(kept.count == 25 && kept.allSatisfy { $0.outcome == .processed })
        #expect(try await h.jobs.store.historyCount(queue: "default") == 25)
    }

    /// Age alone (a cap far from reached): the records past the age cap go at the first settle of a minute, read
    /// from their `finished_at` at the list's old end, and the younger ones stay.
    @Test func recordsPastTheAgeCapGoWhileYoungerOnesStay() async throws {
        let h = try EngineHarness()
        let k = h.jobs.keys("default")
        let now = Date().timeIntervalSince1970
        for (id, age) in [("old-1", 7300.0), ("old-2", 7200), ("young-1", 600), ("young-2", 60)] {
            try await h.redis.send("LPUSH", k.historyIDs, id)
            try await h.redis.send("HSET", k.historyJobs, id, #"{"id":"\#(id)","type":"x","queue":"default","outcome":"processed","attempt":1,"finished_at":\#(now - age)}"#)
        }
        try await h.jobs.enqueue(type: "diag.record", payload: h.diag(key: "\(h.namespace):age", member: "m"), options: EnqueueOptions(id: "age-now"))
        var options = WorkerOptions.fastTest()
        options.historyMaxAge = .seconds(3600)
        let (worker, task) = h.startWorker(.diagnostic, options: options)
        #expect(try await h.eventually(timeout: .seconds(30)) { try await h.jobs.counters(queue: "default")["processed"] == 1 })
        worker.shutdown()
        try await task.value
        let ids = (try await h.redis.send("LRANGE", k.historyIDs, "0", "-1").array ?? []).compactMap(\.string)
        #expect(ids == ["age-now", "young-2", "young-1"], "\(ids)")
        #expect(try await h.redis.send("HLEN", k.historyJobs).int == 3)
    }

    /// A job that finishes twice (a dead job retried that dies again) keeps one entry and its latest record: the
    /// list never names an id twice, so the older finish's trim cannot take the newer record with it.
    @Test func aJobThatFinishesTwiceIsListedOnce() async throws {
        let h = try EngineHarness()
        try await enqueue(h, id: "twice", verdict: "permanent")
        try await enqueue(h, id: "other", verdict: "ok")
        let (worker, task) = h.startWorker(registry)
        #expect(try await h.eventually(timeout: .seconds(30)) { try await h.jobs.store.historyCount(queue: "default") == 2 })
        #expect(try await h.jobs.retryDead(id: "twice", queue: "default"))
        #expect(try await h.eventually(timeout: .seconds(30)) { (try await h.jobs.counters(queue: "default"))["dead"] == 2 })
        worker.shutdown()
        try await task.value
        let k = h.jobs.keys("default")
        let ids = (try await h.redis.send("LRANGE", k.historyIDs, "0", "-1").array ?? []).compactMap(\.string)
        #expect(ids == ["twice", "other"], "\(ids)")
        #expect(try await h.jobs.store.historyCount(queue: "default") == 2)
    }

    /// During a rolling upgrade from a release before decision 0033, older workers add to the legacy sorted set:
    /// the readers merge it with the list by finish time, so every finished job is listed, counted and found.
    @Test func theReadersMergeTheLegacySortedSetWhileItHoldsRecords() async throws {
        let h = try EngineHarness()
        let k = h.jobs.keys("default")
        let now = Date().timeIntervalSince1970
        func record(_ id: String, _ at: Double) -> String {
            #"{"id":"\#(id)","type":"x","queue":"default","outcome":"processed","attempt":1,"finished_at":\#(at)}"# + "\n"
                + #"{"id":"\#(id)","type":"x","queue":"default","payload":{},"attempt":1,"enqueued_at":1}"#
        }
        for (id, age) in [("new-3", 30.0), ("new-1", 10)] {  // LPUSH: the newest ends up first
            try await h.redis.send("LPUSH", k.historyIDs, id)
            try await h.redis.send("HSET", k.historyJobs, id, record(id, now - age))
        }
        for (id, age) in [("old-2", 20.0), ("old-4", 40)] {
            try await h.redis.send("ZADD", k.legacyHistory, String(now - age), id)
            try await h.redis.send("HSET", k.historyJobs, id, record(id, now - age))
        }
        #expect(try await h.jobs.store.historyCount(queue: "default") == 4)
        #expect(try await h.jobs.store.historyRecords(queue: "default", offset: 0, limit: 10).map(\.id) == ["new-1", "old-2", "new-3", "old-4"])
        #expect(try await h.jobs.store.historyRecords(queue: "default", offset: 1, limit: 2).map(\.id) == ["old-2", "new-3"])
        let found = try await h.jobs.store.recentJobs(queue: "default", limit: 3).jobs.filter { $0.place == .finished }
        #expect(found.compactMap(\.record?.id) == ["new-1", "old-2", "new-3"])
        #expect(try await h.jobs.store.historyRecord(id: "old-4", queue: "default")?.outcome == .processed)
    }

    @Test func aWorkerWithHistoryOffKeepsNone() async throws {
        let h = try EngineHarness()
        try await enqueue(h, id: "off-1", verdict: "ok")
        try await enqueue(h, id: "off-2", verdict: "permanent")
        var options = WorkerOptions.fastTest()
        options.historyMaxJobs = 0
        let (worker, task) = h.startWorker(registry, options: options)
        #expect(try await h.eventually(timeout: .seconds(30)) { (try await h.jobs.counters(queue: "default"))["dead"] == 1 })
        #expect(try await h.eventually(timeout: .seconds(30)) { (try await h.jobs.counters(queue: "default"))["processed"] == 1 })
        worker.shutdown()
        try await task.value
        let k = h.jobs.keys("default")
        #expect(try await h.redis.send("EXISTS", k.historyIDs, k.legacyHistory, k.historyJobs).int == 0)
    }

    /// The counters the dashboard charts: per hour and per minute, in one hash an hour, kept two days.
    @Test func settlesAreCountedPerHourAndPerMinute() async throws {
        let h = try EngineHarness()
        for n in 0..<3 { try await enqueue(h, id: "c-\(n)", verdict: "ok") }
        try await enqueue(h, id: "c-dead", verdict: "permanent")
        let before = Date()
        let (worker, task) = h.startWorker(registry)
        #expect(try await h.eventually(timeout: .seconds(30)) { try await h.jobs.store.historyCount(queue: "default") == 4 })
        worker.shutdown()
        try await task.value
        let after = Date()
        let hours = try await h.jobs.store.hourCounters(queue: "default", hours: [before, after])
        // Both reads name the same hash unless the hour turned during the test; sum the distinct ones.
        let counters = QueueKeys.hour(before).hour == QueueKeys.hour(after).hour ? [hours[0]] : hours
        func total(_ field: String) -> Int { counters.reduce(0) { $0 + ($1[field] ?? 0) } }
        #expect(total("processed") == 3 && total("failed") == 1 && total("dead") == 1, "\(counters)")
        let minutes = counters.flatMap { $0.filter { $0.key.hasSuffix(":processed") }.map(\.value) }
        #expect(minutes.reduce(0, +) == 3, "\(counters)")
        // The hours' hashes that hold a settle (the hour may have turned after the last: `after`'s then does not exist).
        var ttls: [Int] = []
        for hour in Set([before, after].map { QueueKeys.hour($0).hour }) {
            let ttl = try await h.redis.send("TTL", h.jobs.keys("default").stats(hour: hour)).int ?? -2
            if ttl != -2 { ttls.append(ttl) }
        }
        #expect(!ttls.isEmpty && ttls.allSatisfy { $0 > 86_400 && $0 <= QueueKeys.hourStatsTTLSeconds }, "\(ttls)")
    }

    /// `hoopoe job cancel` (and ``JobQueue/cancel(id:queue:redaction:)``) records the job as cancelled, in the same
    /// script, its secret payload keys removed; a job that is not waiting is not recorded.
    @Test func aCancelledJobIsRecordedWithoutItsSecret() async throws {
        let h = try EngineHarness()
        let rule = PayloadRedaction(registry: registry)
        _ = try await h.jobs.enqueue(
            type: Verdicts.type, payload: .object(["verdict": .string("ok"), "password": .string("hunter4-secret")]),
            options: EnqueueOptions(runAt: Date() + 3600, id: "x-later"))
        _ = try await h.jobs.enqueue(type: Verdicts.type, payload: .object(["verdict": .string("ok")]), options: EnqueueOptions(id: "x-ready"))
        #expect(try await h.jobs.cancel(id: "x-later", queue: "default", redaction: rule) == .cancelled)
        #expect(try await h.jobs.cancel(id: "x-ready", queue: "default", redaction: rule) == .cancelled)
        for id in ["x-later", "x-ready"] {
            let found = try #require(try await h.jobs.find(id: id, queue: "default", finished: true))
            guard case .finished(let record) = found.state else { Issue.record("\(id): \(found.state)"); continue }
            #expect(record.outcome == .cancelled && record.attempt == 0 && record.worker == nil && record.envelope?.payload["verdict"] == .string("ok"))
        }
        let raw = try await h.redis.send("HGET", h.jobs.keys("default").historyJobs, "x-later").string ?? ""
        #expect(raw.contains("\"outcome\":\"cancelled\"") && !raw.contains("hunter4"), "\(raw)")
        #expect(try await h.jobs.cancel(id: "x-later", queue: "default", redaction: rule) == .notFound, "a finished job is not cancelled twice")
    }

    @Test func aRecordReadsBackAsWritten() {
        let envelope = JobEnvelope(id: "r-1", type: "t", queue: "q", payload: .object(["a": .string("line\nbreak")]), enqueuedAt: 5)
        let record = HistoryRecord(
            id: "r-1", type: "t", queue: "q", outcome: .deferred, attempt: 2, duration: 0.5, worker: "h:1:X", finishedAt: 10.25, error: "e\nf \"quoted\" back\\slash \u{1} ü ☃",
            deferredTo: "r-2", envelope: envelope)
        #expect(HistoryRecord.decode(record.encoded()) == record)
        #expect(HistoryRecord.decode(Array("not json".utf8)) == nil)
    }

    /// Times are written to the millisecond as `%.3f` wrote them (the header is written by hand, decision 0028).
    @Test func aRecordsTimesAreWrittenToTheMillisecond() {
        for (finishedAt, duration, text) in [
            (1_764_500_000.1234, 0.0005, #""finished_at":1764500000.123,"duration":0.001}"#),
            (10.25, 0.0, #""finished_at":10.250,"duration":0.000}"#),
            (7.9996, 12.05, #""finished_at":8.000,"duration":12.050}"#),
        ] {
            let record = HistoryRecord(id: "t", type: "t", queue: "q", outcome: .processed, attempt: 1, duration: duration, worker: nil, finishedAt: finishedAt)
            #expect(String(decoding: record.header, as: UTF8.self).contains(text), "\(String(decoding: record.header, as: UTF8.self))")
        }
    }
}

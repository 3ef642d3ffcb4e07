import Foundation
import HoopoeJSON
import Redis
import TestSupport
import Testing

@testable import HoopoeCore

/// A bounded lookup by id (the dashboard's job page, `hoopoe job show`) reads at most a few windows of the stream,
/// and still finds what it promises: a Hoopoe-made id anywhere in the backlog, a caller-chosen id among the oldest or
/// newest entries.
@Suite struct StreamLookupTests {
    /// `count` ready jobs with caller-chosen ids `<prefix>-<n>`, added with explicit entry ids from `startMs` (one a ms),
    /// so they sit before any entry added now.
    private func fill(_ h: EngineHarness, prefix: String, count: Int, startMs: UInt64) async throws {
        let stream = h.jobs.keys("default").stream
        var commands: [RedisCommand] = []
        for n in 0..<count {
            var xadd = RedisCommand("XADD", stream, "\(startMs + UInt64(n))-0", "job")
            xadd.append(bytes: JobEnvelope(id: "\(prefix)-\(n)", type: "diag.record", payload: .object([:])).encoded())
            commands.append(xadd)
        }
        for reply in try await h.redis.pipeline(commands) { #expect(reply.errorMessage == nil) }
    }

    /// `count` ready jobs with caller-chosen ids, enqueued now (after every entry already there).
    private func append(_ h: EngineHarness, prefix: String, count: Int) async throws {
        let stream = h.jobs.keys("default").stream
        let commands = (0..<count).map { n in
            var xadd = RedisCommand("XADD", stream, "*", "job")
            xadd.append(bytes: JobEnvelope(id: "\(prefix)-\(n)", type: "diag.record", payload: .object([:])).encoded())
            return xadd
        }
        for reply in try await h.redis.pipeline(commands) { #expect(reply.errorMessage == nil) }
    }

    @Test func aHoopoeIdIsReadBackAsItsTime() {
        let time = Date(timeIntervalSince1970: 1_764_500_000.123)
        #expect(JobID.milliseconds(of: JobID.make(now: time)) == 1_764_500_000_123)
        #expect(JobID.milliseconds(of: "rjob099999") == nil)
        #expect(JobID.milliseconds(of: "order-7") == nil)
        #expect(JobID.milliseconds(of: String(repeating: "U", count: 26)) == nil, "U is not in the alphabet")
    }

    /// The stream: 3,000 older jobs, the job looked for (enqueued now, with a Hoopoe id), 3,000 newer ones. The job is
    /// in neither the oldest nor the newest 1,000: only the read around its id's time finds it.
    @Test func aReadyJobDeepInALargeStreamIsFoundByTheTimeItsIdCarries() async throws {
        let h = try EngineHarness()
        let nowMs = UInt64(Date().timeIntervalSince1970 * 1000)
        try await fill(h, prefix: "old", count: 3000, startMs: nowMs - 60_000)
        let result = try await h.jobs.enqueue(type: "diag.record", payload: .object(["member": "deep"]))
        let id = try #require(result.createdID)
        try await append(h, prefix: "new", count: 3000)
        #expect(try await h.jobs.store.streamLength(queue: "default") == 6001)
        let found = try #require(try await h.jobs.find(id: id, queue: "default", stream: .bounded))
        #expect(found.state == .ready && found.envelope.id == id && found.envelope.payload["member"] == "deep")
        #expect(try await h.jobs.find(id: id, queue: "default", finished: true, stream: .bounded)?.entryID == found.entryID)
    }

    /// A caller-chosen id carries no time: it is found among the oldest and the newest 1,000 entries (the next to run,
    /// the jobs workers hold, the latest enqueued), and not deeper — there `.whole` finds it, as the page says.
    @Test func aCallerChosenIdIsFoundWithinTheStatedBound() async throws {
        let h = try EngineHarness()
        let nowMs = UInt64(Date().timeIntervalSince1970 * 1000)
        try await fill(h, prefix: "old", count: 3000, startMs: nowMs - 60_000)
        try await append(h, prefix: "new", count: 3000)
        let window = try #require(StreamSearch.bounded.window)
        for id in ["old-0", "old-\(window - 1)", "new-2999", "new-\(3000 - window)"] {
            let found = try await h.jobs.find(id: id, queue: "default", stream: .bounded)
            #expect(found?.state == .ready && found?.envelope.id == id, "\(id)")
        }
        for id in ["old-\(window)", "old-2999", "new-0", "new-\(2999 - window)"] {
            #expect(try await h.jobs.find(id: id, queue: "default", stream: .bounded) == nil, "\(id) is outside the bound")
            #expect(try await h.jobs.find(id: id, queue: "default")?.envelope.id == id, "\(id): the whole stream is read by default")
        }
        #expect(try await h.jobs.find(id: "nowhere", queue: "default", stream: .bounded) == nil)
    }

    /// An enqueuer that writes JSON with spaces (`"id": "x"`, Python's default) is still found.
    @Test func anEnvelopeWrittenWithSpacesIsFound() async throws {
        let h = try EngineHarness()
        let body = #"{"id": "spaced-1", "type": "diag.record", "payload": {}}"#
        try await h.redis.send("XADD", h.jobs.keys("default").stream, "*", "job", body)
        #expect(try await h.jobs.find(id: "spaced-1", queue: "default", stream: .bounded)?.state == .ready)
        #expect(try await h.jobs.find(id: "spaced-1", queue: "default")?.state == .ready)
    }

    /// A running job (held by a worker's consumer) is reported as running with its consumer.
    @Test func aRunningJobIsFoundAsRunning() async throws {
        let h = try EngineHarness()
        let stream = h.jobs.keys("default").stream
        try await append(h, prefix: "held", count: 1)
        _ = try await h.redis.send("XGROUP", "CREATE", stream, QueueKeys.group, "0")
        _ = try await h.redis.send("XREADGROUP", "GROUP", QueueKeys.group, "c-1", "COUNT", "1", "STREAMS", stream, ">")
        let found = try await h.jobs.find(id: "held-0", queue: "default", stream: .bounded)
        #expect(found?.state == .running(consumer: "c-1"))
    }

    /// An entry with a field after `job` (`XADD … job <envelope> source svc-a`, which PROTOCOL.md allows: readers take
    /// `job` by name) is a job the worker runs; every other reader of the stream takes its `job` field too. They took
    /// the last field: a clear of its type left it (to run on resume), the search missed it, the busy page showed none.
    @Test func everyReaderTakesTheJobFieldNotTheLast() async throws {
        let h = try EngineHarness()
        let stream = h.jobs.keys("default").stream
        for n in 0..<2 {
            let body = #"{"id":"extra-\#(n)","type":"flood.sms","payload":{"user_id":7}}"#
            try await h.redis.send("XADD", stream, "*", "job", body, "source", "svc-a")
        }
        let recent = try await h.jobs.store.recentJobs(queue: "default", limit: 10, needles: [Array("user_id".utf8)])
        #expect(recent.jobs.map(\.envelope.id).sorted() == ["extra-0", "extra-1"], "the search")
        _ = try await h.redis.send("XGROUP", "CREATE", stream, QueueKeys.group, "0")
        _ = try await h.redis.send("XREADGROUP", "GROUP", QueueKeys.group, "c-1", "COUNT", "1", "STREAMS", stream, ">")
        #expect(try await h.jobs.store.heldEntries(queue: "default", limit: 10).map { $0.envelope?.id } == ["extra-0"], "the busy page's read")
        let cleared = try await h.jobs.clear(queue: "default", type: "flood.sms")
        #expect(cleared.cleared == 1 && cleared.otherTypes == 0, "the waiting one, by its type: \(cleared)")
        #expect(try await h.redis.send("XLEN", stream).int == 1, "only the held one is left")
    }
}

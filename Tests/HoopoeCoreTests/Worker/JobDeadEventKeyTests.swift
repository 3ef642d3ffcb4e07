import Foundation
import HoopoeJSON
import Redis
import TestSupport
import Testing

@testable import HoopoeCore

/// What consumers of `job.dead` de-duplicate on (jobs/EVENTS.md): `job_id` with `entry_id` tells every real death
/// apart. The pair jobs/EVENTS.md named before, `job_id` with `attempt`, repeated for a dead job retried that died
/// again (its attempts count from 1 again), so a consumer following the page dropped the second death as a repeat.
@Suite struct JobDeadEventKeyTests {
    /// The `data` of every `job.dead` event, oldest first.
    static func deadEvents(_ redis: RedisClient, stream: String) async throws -> [JSONValue] {
        let entries = try await redis.send("XRANGE", stream, "-", "+").array ?? []
        return entries.compactMap { entry -> JSONValue? in
            let fields = entry.array?[1].array?.compactMap(\.string) ?? []
            guard let type = fields.firstIndex(of: "type"), type + 1 < fields.count, fields[type + 1] == "job.dead",
                let data = fields.firstIndex(of: "data"), data + 1 < fields.count
            else { return nil }
            return JSONValue.parse(Array(fields[data + 1].utf8))
        }
    }

    @Test func aDeadJobRetriedThatDiesAgainIsANewDeath() async throws {
        let h = try EngineHarness()
        let events = h.jobs.global.events
        // As the review did: a `diag.record` without its `key` fails for good at every run.
        let id = "dead-twice-1"
        try await h.redis.send("XADD", h.jobs.keys("default").stream, "*", "job", #"{"id":"\#(id)","type":"diag.record","payload":{}}"#)
        let (worker, task) = h.startWorker()
        #expect(try await h.eventually { try await Self.deadEvents(h.redis, stream: events).count == 1 })
        #expect(try await h.jobs.retryDead(id: id, queue: "default"))
        #expect(try await h.eventually { try await Self.deadEvents(h.redis, stream: events).count == 2 })
        #expect(try await h.jobs.retryAllDead(queue: "default").done == 1)
        #expect(try await h.eventually { try await Self.deadEvents(h.redis, stream: events).count == 3 })
        worker.shutdown()
        try await task.value

        let deaths = try await Self.deadEvents(h.redis, stream: events)
        #expect(deaths.allSatisfy { $0["job_id"] == .string(id) && $0["attempt"] == .integer(1) }, "three deaths, one (job_id, attempt): \(deaths)")
        let entries = deaths.compactMap { $0["entry_id"]?.stringValue }
        #expect(entries.count == 3 && entries.allSatisfy { !$0.isEmpty }, "every job.dead names its entry: \(deaths)")
        #expect(Set(entries).count == 3, "three real deaths, three keys: \(deaths)")
        // The event's other fields are as they were.
        #expect(deaths.allSatisfy { $0["job_type"] == .string("diag.record") && $0["queue"] == .string("default") && $0["reason"]?.stringValue?.isEmpty == false })
    }
}

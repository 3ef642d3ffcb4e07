import Foundation
import HoopoeJSON
import Redis
import TestSupport
import Testing

@testable import HoopoeCore

/// The opt-in outcome (`notify`: an answer list a caller blocks on) and the `job.dead` event every dead job emits.
@Suite struct JobOutcomeTests {
    struct Refuses: JobHandler {
        struct Payload: Codable, Sendable { let verdict: String }
        static let type = "test.refuses"
        func run(_ payload: Payload, context: JobContext) async throws {
            switch payload.verdict {
            case "permanent": throw JobFailure.permanent("the number is invalid")
            case "discard": throw JobFailure.discard("nothing to do")
            default: return
            }
        }
    }

    /// Blocks on the answer list of `id` the way a client in any language would (for as long as any test waits for an
    /// outcome: at 10 s it once came back empty in `make test`'s congested parallel phase).
    private func answer(_ h: EngineHarness, _ id: String) async throws -> JSONValue? {
        let seconds = Int(outcomeDeadline.components.seconds)
        var blpop = RedisCommand("BLPOP", h.jobs.keys("default").answer(id), String(seconds))
        blpop.blockingSeconds = Double(seconds)
        // On a connection of its own: a blocked shared connection would hold up the worker's commands.
        let connection = h.redis.makeDedicatedConnection(name: "test-blpop")
        defer { connection.close() }
        let reply = try await connection.send([blpop])[0]
        guard let items = reply.array, items.count == 2, let bytes = items[1].bytes else { return nil }
        return JSONValue.parse(bytes)
    }

    @Test func aJobWithNotifyAnswersItsOutcomeAndAJobWithoutDoesNot() async throws {
        let h = try EngineHarness()
        var registry = JobRegistry()
        registry.register(Refuses())
        let stream = h.jobs.keys("default").stream
        for (id, verdict, notify) in [("n-ok", "ok", "true"), ("n-dead", "permanent", "true"), ("n-gone", "discard", "true"), ("n-quiet", "ok", "false")] {
            try await h.redis.send("XADD", stream, "*", "job", #"{"id":"\#(id)","type":"test.refuses","payload":{"verdict":"\#(verdict)"},"notify":\#(notify)}"#)
        }
        let (worker, task) = h.startWorker(registry)
        let ok = try #require(try await answer(h, "n-ok"))
        #expect(ok == .object(["id": .string("n-ok"), "type": .string("test.refuses"), "queue": .string("default"), "outcome": .string("processed"), "attempt": .integer(1)]))
        let dead = try #require(try await answer(h, "n-dead"))
        #expect(dead["outcome"] == .string("dead") && dead["error"] == .string("failed permanently: the number is invalid"))
        let gone = try #require(try await answer(h, "n-gone"))
        #expect(gone["outcome"] == .string("discarded") && gone["error"] == .string("nothing to do"))
        #expect(try await h.eventually { (try await h.jobs.counters(queue: "default"))["processed"] == 2 })
        worker.shutdown()
        try await task.value
        #expect(try await h.redis.send("EXISTS", h.jobs.keys("default").answer("n-quiet")).int == 0, "no notify, no answer")
        // Answers are consumed by the BLPOP and otherwise expire: none outlives its TTL. (Enqueued from Swift.)
        try await h.jobs.enqueue(type: Refuses.type, payload: ["verdict": "ok"], options: EnqueueOptions(id: "n-ttl", notify: true))
        let (again, againTask) = h.startWorker(registry)
        #expect(try await h.eventually { try await h.redis.send("EXISTS", h.jobs.keys("default").answer("n-ttl")).int == 1 })
        let ttl = try await h.redis.send("TTL", h.jobs.keys("default").answer("n-ttl")).int ?? -1
        #expect(ttl > 0 && ttl <= QueueKeys.answerTTLSeconds)
        again.shutdown()
        try await againTask.value
    }

    @Test func everyDeadJobIsAJobDeadEvent() async throws {
        let h = try EngineHarness()
        var registry = JobRegistry.diagnostic
        registry.register(Refuses())
        let stream = h.jobs.keys("default").stream
        try await h.redis.send("XADD", stream, "*", "job", #"{"id":"d1","type":"test.refuses","payload":{"verdict":"permanent"}}"#)
        try await h.redis.send("XADD", stream, "*", "job", #"{"id":"d2","type":"diag.record","payload":{},"timeout":-5}"#)
        try await h.redis.send("XADD", stream, "*", "job", "not json at all")
        try await h.redis.send("XADD", stream, "*", "job", #"{"id":"d4","type":"test.refuses","payload":{"verdict":"ok"},"notify":"yes"}"#)
        // A reason quotes the bad value: a phone number there is masked, as in every other output (other services read
        // the events stream).
        try await h.redis.send("XADD", stream, "*", "job", #"{"id":"d5","type":"diag.record","payload":{},"queue":"+989121234567"}"#)
        try await h.redis.send("XADD", stream, "*", "job", #"{"id":"d6","type":"09121234567","payload":{}}"#)
        let (worker, task) = h.startWorker(registry)
        #expect(try await h.eventually { try await h.jobs.info(queue: "default").dead == 6 })
        worker.shutdown()
        try await task.value
        let entries = try await h.redis.send("XRANGE", h.jobs.global.events, "-", "+").array ?? []
        var events: [String: JSONValue] = [:]
        for entry in entries {
            let fields = entry.array?[1].array?.compactMap(\.string) ?? []
            var map: [String: String] = [:]
            for i in stride(from: 0, to: fields.count - 1, by: 2) { map[fields[i]] = fields[i + 1] }
            #expect(map["type"] == "job.dead")
            #expect(map["at"].flatMap(Double.init) != nil, "at is Unix seconds as decimal text")
            let data = try #require(map["data"].flatMap { JSONValue.parse(Array($0.utf8)) })
            events[data["job_id"]?.stringValue ?? "?"] = data
        }
        #expect(events.count == 6, "\(events.keys.sorted())")
        let type = events["d6"]?["job_type"]?.stringValue ?? ""
        #expect(type.contains("***") && !type.contains("1234567"), "\(type)")
        let masked = events["d5"]?["reason"]?.stringValue ?? ""
        #expect(masked.contains("queue") && masked.contains("***") && !masked.contains("1234567"), "\(masked)")
        #expect(events["d1"]?["reason"] == .string("failed permanently: the number is invalid"))
        #expect(events["d1"]?["job_type"] == .string("test.refuses") && events["d1"]?["queue"] == .string("default") && events["d1"]?["attempt"] == .integer(1))
        #expect(events["d2"]?["reason"] == .string("invalid envelope: timeout must be > 0 and <= 86400 seconds (got -5)"))
        #expect(events["d4"]?["reason"] == .string(#"invalid envelope: notify must be true, false or null (got a string "yes")"#))
        #expect(events.keys.contains { $0.hasPrefix("entry-") }, "the malformed one, under its entry id")
    }

    /// Jobs of types this worker does not run are counted under `(unknown)`: by their own names, each one added a field
    /// to the day's counters, kept 90 days (a client that put an id in `type` grew them by ~154 B a job). The dead
    /// jobs keep their types.
    @Test func typesThisWorkerDoesNotRunAreCountedAsUnknown() async throws {
        let h = try EngineHarness()
        let stream = h.jobs.keys("default").stream
        for index in 0..<20 {
            try await h.redis.send("XADD", stream, "*", "job", #"{"id":"u\#(index)","type":"no.such.type.\#(index)","payload":{}}"#)
        }
        let (worker, task) = h.startWorker(JobRegistry.diagnostic)
        #expect(try await h.eventually { try await h.jobs.info(queue: "default").dead == 20 })
        worker.shutdown()
        try await task.value
        let day = QueueKeys.counterTime(Date()).day
        let fields = (try await h.redis.send("HKEYS", h.jobs.keys("default").stats(day: day)).array ?? []).compactMap(\.string)
        #expect(Set(fields) == ["failed:(unknown)", "dead:(unknown)"], "\(fields)")
        #expect(try await h.jobs.find(id: "u7", queue: "default")?.envelope.type == "no.such.type.7")
    }
}

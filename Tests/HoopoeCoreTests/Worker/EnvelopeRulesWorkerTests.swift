import Foundation
import HoopoeCore
import HoopoeJSON
import Redis
import TestSupport
import Testing

/// The envelope rules (`jobs/PROTOCOL.md`, `jobs/schemas/envelope.schema.json`) as a worker applies them, and the
/// protocol traps of `jobs/lua/enqueue.lua`, against a real Redis.
@Suite struct EnvelopeRulesWorkerTests {
    private func xadd(_ h: EngineHarness, _ body: String, queue: String = "default") async throws {
        try await h.redis.send("XADD", h.jobs.keys(queue).stream, "*", "job", body)
    }

    /// Runs `jobs/lua/enqueue.lua` as another language's client would: EVAL of the file's text.
    /// The script's reply, or its error reply as `.error` (the client throws those).
    private func luaEnqueue(_ h: EngineHarness, envelope: String, id: String, runAt: String = "0", uniqueKey: String?, uniqueSeconds: String = "3600", maxBytes: String = "0") async throws -> Result<RedisReply, RedisError> {
        let path = BuiltProducts.projectRoot.appendingPathComponent("jobs/lua/enqueue.lua").path
        let source = try String(contentsOfFile: path, encoding: .utf8)
        let k = h.jobs.keys("default")
        do {
            return .success(try await h.redis.send(RedisCommand("EVAL", [
                source, "5", k.stream, k.scheduled, k.scheduledJobs, k.unique(uniqueKey ?? "-"), k.once("-"),
                envelope, id, runAt, uniqueKey == nil ? "" : uniqueSeconds, "", maxBytes,
            ])))
        } catch let error as RedisError {
            return .failure(error)
        }
    }

    @Test func envelopesThatBreakTheSchemaDieWithAReasonNamingTheField() async throws {
        let h = try EngineHarness()
        let payload = #""payload":{"key":"k","member":"m"}"#
        let cases: [(String, String)] = [
            (#"{"id":"a1","type":"diag.record",\#(payload),"attempt":-1}"#, "invalid envelope: attempt must be a whole number from 0 to 1000 (got -1)"),
            (#"{"id":"a2","type":"diag.record",\#(payload),"max_attempts":0}"#, "invalid envelope: max_attempts must be a whole number from 1 to 1000 (got 0)"),
            (#"{"id":"a3","type":"diag.record",\#(payload),"timeout":-5}"#, "invalid envelope: timeout must be > 0 and <= 86400 seconds (got -5)"),
            (#"{"id":"a4","type":"diag.record",\#(payload),"queue":"a/b"}"#, "invalid envelope: queue may only contain A-Z a-z 0-9 . _ - (got 'a/b')"),
            (#"{"id":"a5","type":"diag.record",\#(payload),"queue":"a..b"}"#, "invalid envelope: queue must not contain '..' (got 'a..b')"),
            (#"{"id":"a6","type":"diag.record",\#(payload),"queue":"{x}"}"#, "invalid envelope: queue may only contain A-Z a-z 0-9 . _ - (got '{x}')"),
            (#"{"id":"a7","type":"diag.record",\#(payload),"attempt":"0"}"#, #"invalid envelope: attempt must be a number (got a string "0")"#),
            (#"{"id":"a8","type":"diag.record",\#(payload),"enqueued_at":1795400000123}"#, "invalid envelope: enqueued_at must be Unix seconds below 1e11 (got 1795400000123: milliseconds?)"),
            (#"{"id":"a9","type":"diag.record",\#(payload),"run_at":1795400000123.5}"#, "invalid envelope: run_at must be Unix seconds below 1e11 (got 1795400000123.5: milliseconds?)"),
            (#"{"id":"b1","type":"diag.record",\#(payload),"timeout":1e308}"#, "invalid envelope: timeout must be > 0 and <= 86400 seconds (got 1e+308)"),
            (#"{"id":"b2","type":"diag.record",\#(payload),"timeout":100000000000000000}"#, "invalid envelope: timeout must be > 0 and <= 86400 seconds (got 1e+17)"),
            (#"{"id":"b3","type":"diag.record",\#(payload),"max_attempts":9223372036854775807}"#, "invalid envelope: max_attempts must be a whole number from 1 to 1000 (got 9.223372036854776e+18)"),
            (#"{"id":"b4","type":"diag.record",\#(payload),"attempt":1.5}"#, "invalid envelope: attempt must be a whole number from 0 to 1000 (got 1.5)"),
            (#"{"id":"b5","type":"diag record",\#(payload)}"#, "invalid envelope: type may only contain A-Z a-z 0-9 . _ : - (got 'diag record')"),
            (#"{"id":"b6","type":"diag.record",\#(payload),"unique_key":"a\u0001"}"#, "invalid envelope: unique_key must not contain control characters"),
            (#"{"id":"b7","type":"diag.record",\#(payload),"unique_for":0}"#, "invalid envelope: unique_for must be > 0 and <= 2592000 seconds (got 0)"),
        ]
        for (body, _) in cases { try await xadd(h, body) }
        // A job with an id that cannot be kept as one: the raw text is kept instead.
        try await xadd(h, #"{"id":"a b/c","type":"diag.record",\#(payload)}"#)
        let good = "\(h.namespace):good"
        try await h.jobs.enqueue(type: "diag.record", payload: h.diag(key: good, member: "after"))
        let (worker, task) = h.startWorker()
        #expect(try await h.eventually { try await h.recorded(good)["after"] == 1 })
        #expect(try await h.eventually { try await h.jobs.info(queue: "default").dead == cases.count + 1 })
        worker.shutdown()
        try await task.value
        let dead = try await h.jobs.deadJobs(queue: "default", limit: 100)
        for (body, reason) in cases {
            let id = String(body.dropFirst(7).prefix(2))
            #expect(dead.first { $0.id == id }?.deadReason == reason, "\(body)")
        }
        let rawKept = dead.first { $0.id.hasPrefix("entry-") }
        #expect(rawKept?.deadReason == "invalid envelope: id may only contain A-Z a-z 0-9 . _ : - (got 'a b/c')")
        #expect(rawKept?.payload.stringValue?.contains(#""id":"a b/c""#) == true)
        #expect(try await h.recorded("k").isEmpty, "none of them ran")
        // Retrying them from the dead set is refused with the same reason, not sent round again.
        for (id, message) in [("a3", "timeout must be > 0"), (rawKept?.id ?? "?", "malformed envelope kept as text")] {
            do {
                _ = try await h.jobs.retryDead(id: id, queue: "default")
                Issue.record("dead job \(id) was retried")
            } catch let error as EnqueueError {
                #expect(error.message.contains(message), "\(error.message)")
            }
        }
        #expect(try await h.jobs.info(queue: "default").ready == 0)
    }

    @Test func anEarlyJobWrittenWithPlainXADDRunsAtItsRunAtNotBefore() async throws {
        let h = try EngineHarness()
        struct Stamp: JobHandler {
            struct Payload: Codable, Sendable { let key: String; let due: Double }
            static let type = "test.stamp"
            func run(_ payload: Payload, context: JobContext) async throws {
                try await context.redis.send("HSET", payload.key, context.id, String(Date().timeIntervalSince1970 - payload.due))
            }
        }
        var registry = JobRegistry()
        registry.register(Stamp())
        let key = "\(h.namespace):stamps"
        // An hour ahead, written straight to the stream as a plain XADD would.
        let due = (Date().timeIntervalSince1970 + 3600).rounded()
        try await xadd(h, #"{"id":"early-1","type":"test.stamp","payload":{"key":"\#(key)","due":\#(due)},"run_at":\#(due)}"#)
        let (worker, task) = h.startWorker(registry)
        // Moved to the scheduled set at its run_at (counted as early), its stream entry acknowledged; not run.
        #expect(try await h.eventually { try await h.jobs.counters(queue: "default")["early"] == 1 })
        let k = h.jobs.keys("default")
        #expect(try await h.redis.send("ZSCORE", k.scheduled, "early-1").string.flatMap(Double.init) == due)
        let info = try await h.jobs.info(queue: "default")
        #expect(info.ready == 0 && info.inFlight == 0 && info.scheduled == 1)
        #expect(try await h.redis.send("HLEN", key).int == 0, "it ran before its run_at")
        // When the scheduled set says it is due (its score moved to now, as time or an operator would), it runs, once.
        try await h.redis.send("ZADD", k.scheduled, "XX", "0", "early-1")
        #expect(try await h.eventually(timeout: .seconds(20)) { (try await h.redis.send("HLEN", key).int ?? 0) == 1 })
        worker.shutdown()
        try await task.value
        let counters = try await h.jobs.counters(queue: "default")
        #expect(counters["early"] == 1 && counters["early:test.stamp"] == 1 && counters["processed"] == 1, "\(counters)")
    }

    /// A plain-XADD job of a type this worker does not run yet, due in three days: it waits for its run_at in the
    /// scheduled set, where a worker that knows the type (deployed meanwhile) runs it. Buried at once, a retry from the
    /// dead set (what operating.md says to do after a deploy) ran it days early.
    @Test func anEarlyJobOfATypeNotDeployedYetWaitsForItsRunAtInsteadOfDying() async throws {
        let h = try EngineHarness()
        let due = (Date().timeIntervalSince1970 + 3 * 86_400).rounded()
        try await xadd(h, #"{"id":"later-kind","type":"reminder.new_kind","payload":{},"run_at":\#(due)}"#)
        let (worker, task) = h.startWorker()
        #expect(try await h.eventually { try await h.jobs.counters(queue: "default")["early"] == 1 })
        worker.shutdown()
        try await task.value
        let info = try await h.jobs.info(queue: "default")
        #expect(info.dead == 0 && info.scheduled == 1, "\(info)")
        #expect(try await h.redis.send("ZSCORE", h.jobs.keys("default").scheduled, "later-kind").string.flatMap(Double.init) == due)
    }

    @Test func theLuaScriptRecordsTheUniqueKeySoTheLockIsReleasedWithoutTheEnvelopeRepeatingIt() async throws {
        let h = try EngineHarness()
        let key = "\(h.namespace):unique"
        let envelope = #"{"id":"u1","type":"diag.record","payload":{"key":"\#(key)","member":"m"},"enqueued_at":1795400000}"#
        let reply = try await luaEnqueue(h, envelope: envelope, id: "u1", uniqueKey: "report:42").get()
        #expect(reply.array?.first?.string == "enqueued", "\(reply)")
        let lock = h.jobs.keys("default").unique("report:42")
        #expect(try await h.redis.send("GET", lock).string == "u1")
        // A second enqueue with the key is refused while the first is pending.
        let second = try await luaEnqueue(h, envelope: #"{"id":"u2","type":"diag.record","payload":{}}"#, id: "u2", uniqueKey: "report:42").get()
        #expect(second.array?.map { $0.string ?? "" } == ["duplicate", "u1"])
        let (worker, task) = h.startWorker()
        #expect(try await h.eventually { try await h.recorded(key)["m"] == 1 })
        #expect(try await h.eventually { try await h.redis.send("EXISTS", lock).int == 0 }, "the lock outlived the job")
        worker.shutdown()
        try await task.value
        let third = try await luaEnqueue(h, envelope: #"{"id":"u3","type":"diag.record","payload":{"key":"\#(key)","member":"n"},"unique_key":null}"#, id: "u3", runAt: String(Date().timeIntervalSince1970 + 3600), uniqueKey: "report:42").get()
        #expect(third.array?.first?.string == "scheduled")
        // Cancelled while scheduled: the lock goes with it.
        #expect(try await h.jobs.cancel(id: "u3", queue: "default") == .cancelled)
        #expect(try await h.redis.send("EXISTS", lock).int == 0, "cancel left the lock")
    }

    /// The enqueue function takes a unique lock for any envelope whose `unique_key` is a string; a job that then dies
    /// unread (a field of the wrong type, a key over the rules' 200 characters) kept it for its whole TTL, and the
    /// corrected job sent again was refused as a duplicate.
    @Test func aUniqueJobBuriedUnreadReleasesItsLockAndAnswersItsCaller() async throws {
        let h = try EngineHarness()
        let payload = #""payload":{"key":"k","member":"m"}"#
        let longKey = String(repeating: "r", count: 201)
        let cases: [(id: String, key: String, envelope: String)] = [
            ("u1", "report:1", #"{"id":"u1","type":"diag.record",\#(payload),"max_attempts":"3","notify":true}"#),
            ("u2", longKey, #"{"id":"u2","type":"diag.record",\#(payload)}"#),
        ]
        for item in cases {
            let reply = try await luaEnqueue(h, envelope: item.envelope, id: item.id, uniqueKey: item.key).get()
            #expect(reply.array?.first?.string == "enqueued", "\(reply)")
            #expect(try await h.redis.send("GET", h.jobs.keys("default").unique(item.key)).string == item.id)
        }
        let (worker, task) = h.startWorker()
        #expect(try await h.eventually { try await h.jobs.info(queue: "default").dead == 2 })
        worker.shutdown()
        try await task.value
        for item in cases {
            #expect(try await h.redis.send("EXISTS", h.jobs.keys("default").unique(item.key)).int == 0, "the lock of \(item.id) outlived it")
        }
        let again = try await luaEnqueue(h, envelope: #"{"id":"u3","type":"diag.record",\#(payload)}"#, id: "u3", uniqueKey: "report:1").get()
        #expect(again.array?.first?.string == "enqueued", "the corrected job is not a duplicate: \(again)")
        // The caller that asked for an answer gets one, though its envelope could not be read whole.
        let answer = try await h.redis.send("LPOP", h.jobs.keys("default").answer("u1")).string ?? ""
        #expect(answer.contains(#""outcome":"dead""#), "\(answer)")
    }

    /// The size guard cut the payload only: an oversized envelope whose bulk is a field this release does not know (or
    /// its own `failed_attempts`) was stored whole in the dead set, and again in the history.
    @Test func anOversizedEnvelopeIsKeptCutWhereverItsBulkIs() async throws {
        let h = try EngineHarness()
        let blob = String(repeating: "x", count: 2 * 1024 * 1024)
        let attempts = (1...50).map { #"{"attempt":\#($0),"at":1795400000,"error":"\#(blob.prefix(20_000))"}"# }.joined(separator: ",")
        try await xadd(h, #"{"id":"note","type":"diag.record","payload":{"key":"k","member":"m"},"note":"\#(blob)"}"#)
        try await xadd(h, #"{"id":"tries","type":"diag.record","payload":{"key":"k","member":"m"},"failed_attempts":[\#(attempts)]}"#)
        let (worker, task) = h.startWorker()
        #expect(try await h.eventually(timeout: .seconds(30)) { try await h.jobs.info(queue: "default").dead == 2 })
        worker.shutdown()
        try await task.value
        let k = h.jobs.keys("default")
        for id in ["note", "tries"] {
            let dead = try await h.redis.send("HGET", k.deadJobs, id).bytes ?? []
            #expect(!dead.isEmpty && dead.count < 70_000, "\(id): \(dead.count) bytes in the dead set")
            let history = try await h.redis.send("HGET", k.historyJobs, id).bytes ?? []
            #expect(history.count < 70_000, "\(id): \(history.count) bytes in the history")
        }
        let tries = try #require(try await h.jobs.deadJob(id: "tries", queue: "default"))
        #expect(tries.failedAttempts?.count == FailedAttempt.maxKept)
        #expect(tries.failedAttempts?.allSatisfy { $0.error.count < 400 } == true)
    }

    /// A stopping worker hands back a job it recovered with its lost runs written into `attempt`, as a new entry (a
    /// first delivery). The limit was checked on recovered deliveries only, so that job ran once more than its
    /// `max_attempts`; an enqueuer's `attempt` already at the limit did too.
    @Test func aJobWhoseAttemptsAreSpentIsBuriedUnrunOnAnyDelivery() async throws {
        let h = try EngineHarness()
        let key = "\(h.namespace):spent"
        try await xadd(h, #"{"id":"spent","type":"diag.record","payload":{"key":"\#(key)","member":"m"},"attempt":1,"max_attempts":1}"#)
        try await xadd(h, #"{"id":"left","type":"diag.record","payload":{"key":"\#(key)","member":"n"},"attempt":1,"max_attempts":2}"#)
        let (worker, task) = h.startWorker()
        #expect(try await h.eventually { try await h.recorded(key)["n"] == 1 })
        #expect(try await h.eventually { try await h.jobs.info(queue: "default").dead == 1 })
        worker.shutdown()
        try await task.value
        #expect(try await h.recorded(key)["m"] == nil, "a job with no attempt left ran")
        let dead = try #require(try await h.jobs.deadJob(id: "spent", queue: "default"))
        #expect(dead.deadReason?.contains("no attempt is left of its limit of 1") == true, "\(dead.deadReason ?? "")")
        #expect(dead.attempt == 1)
    }

    private static func message(_ result: Result<RedisReply, RedisError>) -> String {
        if case .failure(let error) = result { return "\(error)" }
        return ""
    }

    @Test func theLuaScriptRefusesMillisecondsAContradictingUniqueKeyAndOversizedEnvelopes() async throws {
        let h = try EngineHarness()
        let ms = try await luaEnqueue(h, envelope: #"{"id":"t1","type":"diag.record","payload":{}}"#, id: "t1", runAt: "1795400000123", uniqueKey: nil)
        #expect(Self.message(ms).contains("milliseconds?"), "\(ms)")
        let contradicting = try await luaEnqueue(h, envelope: #"{"id":"t2","type":"diag.record","payload":{},"unique_key":"other"}"#, id: "t2", uniqueKey: "mine")
        #expect(Self.message(contradicting).contains(#"the envelope says unique_key "other""#), "\(contradicting)")
        #expect(try await h.redis.send("EXISTS", h.jobs.keys("default").unique("mine")).int == 0)
        let big = #"{"id":"t3","type":"diag.record","payload":{"blob":""# + String(repeating: "x", count: 600 * 1024) + #""}}"#
        let large = try await luaEnqueue(h, envelope: big, id: "t3", uniqueKey: nil, maxBytes: "0")
        #expect(Self.message(large).contains("the limit is 524288"), "a missing limit is the rule's 512 KiB: \(Self.message(large))")
        let raised = try await luaEnqueue(h, envelope: big, id: "t4", uniqueKey: nil, maxBytes: "99999999")
        #expect(Self.message(raised).contains("the limit is 524288"), "a caller cannot raise the limit past the rule's: \(Self.message(raised))")
        #expect(try await h.jobs.info(queue: "default").ready == 0)
        // An array is JSON but not an envelope: refused before the unique lock is taken (it would outlive a dead job).
        let array = try await luaEnqueue(h, envelope: #"[{"id":"t5","type":"diag.record","payload":{}}]"#, id: "t5", uniqueKey: "arr")
        #expect(Self.message(array).contains("is not a JSON object"), "\(array)")
        #expect(try await h.redis.send("EXISTS", h.jobs.keys("default").unique("arr")).int == 0)
        #expect(try await h.jobs.info(queue: "default").ready == 0)
    }

    @Test func theDeadSetKeepsAtMost64KiBOfAnOversizedEnvelope() async throws {
        let h = try EngineHarness()
        let blob = String(repeating: "x", count: 10 * 1024 * 1024)
        try await xadd(h, #"{"id":"huge","type":"diag.record","payload":{"key":"k","member":"m","blob":"\#(blob)"}}"#)
        let cut = #"{"id":"huge-raw","type":"diag.record","payload":{"blob":"\#(blob)"#  // cut short: not JSON
        try await xadd(h, cut)
        let (worker, task) = h.startWorker()
        #expect(try await h.eventually(timeout: .seconds(30)) { try await h.jobs.info(queue: "default").dead == 2 })
        worker.shutdown()
        try await task.value
        let stored = (try await h.redis.send("HVALS", h.jobs.keys("default").deadJobs).array ?? []).compactMap(\.bytes)
        #expect(stored.count == 2 && stored.allSatisfy { $0.count < 70_000 }, "\(stored.map(\.count))")
        let dead = try await h.jobs.deadJobs(queue: "default")
        let parsed = try #require(dead.first { $0.id == "huge" })
        #expect(parsed.deadReason?.hasPrefix("envelope is 10485") == true && parsed.deadReason?.contains("over the 524288-byte limit") == true)
        #expect(parsed.deadReason?.contains("the dead set keeps the first 65536 bytes of its payload's") == true, "\(parsed.deadReason ?? "")")
        let raw = try #require(dead.first { $0.type == "(malformed)" })
        #expect(raw.deadReason?.hasSuffix("(raw text: the first 65536 of \(cut.utf8.count) bytes kept)") == true, "\(raw.deadReason ?? "")")
        #expect(raw.payload.stringValue?.hasPrefix(#"{"id":"huge-raw""#) == true)
        // Its payload is the start of the text it had: it cannot run again as it was sent (it ran with the text).
        await #expect(throws: EnqueueError.self) { _ = try await h.jobs.retryDead(id: "huge", queue: "default") }
        #expect(try await h.jobs.info(queue: "default").dead == 2)
    }

    /// A type whose payload carries a secret: no dead-set copy keeps it, however the envelope is broken.
    struct Secretive: JobHandler {
        struct Payload: Codable, Sendable { let password: String }
        static let type = "test.secretive"
        var redactedPayloadKeys: Set<String> { ["password"] }
        func run(_ payload: Payload, context: JobContext) async throws {}
    }

    @Test func aSecretNeverReachesTheDeadSetWhateverBrokeTheEnvelope() async throws {
        let h = try EngineHarness()
        var registry = JobRegistry()
        registry.register(Secretive())
        let secret = "pw-\(UUID().uuidString)"
        let blob = String(repeating: "x", count: 600 * 1024)
        for body in [
            // Over the size limit, and not decodable past the scan (a lone surrogate): only the raw text is left.
            #"{"id":"s1","type":"test.secretive","payload":{"password":"\#(secret)","n":"\ud800","blob":"\#(blob)"}}"#,
            // Over the size limit, decodable.
            #"{"id":"s2","type":"test.secretive","payload":{"password":"\#(secret)","blob":"\#(blob)"}}"#,
            // A broken rule.
            #"{"id":"s3","type":"test.secretive","payload":{"password":"\#(secret)"},"timeout":-5}"#,
            // A field of the wrong type (not decodable as an envelope).
            #"{"id":"s4","type":"test.secretive","payload":{"password":"\#(secret)"},"attempt":"0"}"#,
        ] {
            try await xadd(h, body)
        }
        let (worker, task) = h.startWorker(registry)
        #expect(try await h.eventually(timeout: .seconds(30)) { try await h.jobs.info(queue: "default").dead == 4 })
        worker.shutdown()
        try await task.value
        let stored = (try await h.redis.send("HVALS", h.jobs.keys("default").deadJobs).array ?? []).compactMap(\.string)
        #expect(stored.count == 4)
        #expect(!stored.contains { $0.contains(secret) }, "a dead-set copy holds the secret")
        let ids = Set(try await h.jobs.deadJobs(queue: "default").map(\.id))
        #expect(ids == ["s1", "s2", "s3", "s4"], "each kept under its own id")
    }

    @Test func enqueueRefusesWhatTheWorkerWouldRefuse() async throws {
        let h = try EngineHarness()
        let refused: [(EnqueueOptions, String)] = [
            (EnqueueOptions(id: "a b"), "job id may only contain"),
            (EnqueueOptions(queue: "a..b"), "must not contain '..'"),
            (EnqueueOptions(maxAttempts: 0), "max_attempts must be a whole number from 1 to 1000 (got 0)"),
            (EnqueueOptions(maxAttempts: 5000), "max_attempts must be a whole number from 1 to 1000 (got 5000)"),
            (EnqueueOptions(timeout: .seconds(-5)), "timeout must be > 0 and <= 86400 seconds (got -5)"),
            (EnqueueOptions(runAt: Date(timeIntervalSince1970: 1_795_400_000_123)), "milliseconds?"),
            (EnqueueOptions(uniqueKey: ""), "unique_key must be 1 to 200 characters"),
        ]
        for (options, message) in refused {
            do {
                try await h.jobs.enqueue(type: "diag.record", payload: .object([:]), options: options)
                Issue.record("accepted: \(message)")
            } catch let error as EnqueueError {
                #expect(error.message.contains(message), "\(error.message)")
            }
        }
        do {
            try await h.jobs.enqueue(type: "diag record", payload: .object([:]))
            Issue.record("a type with a space was accepted")
        } catch let error as EnqueueError {
            #expect(error.message.contains("job type may only contain"))
        }
        // A Duration beyond any TTL does not trap: it is refused naming the option (it was clamped to 10⁹ s before:
        // jobs/PROTOCOL.md, "Enqueue options").
        for (options, option) in [
            (EnqueueOptions(uniqueKey: "u", uniqueFor: .seconds(Int64.max)), "unique_for"), (EnqueueOptions(onceKey: "o", onceFor: .seconds(Int64.max)), "once_for"),
        ] {
            do {
                try await h.jobs.enqueue(type: "diag.record", payload: .object([:]), options: options)
                Issue.record("accepted: \(option)")
            } catch let error as EnqueueError {
                #expect(error.message.contains("\(option) must be > 0"), "\(error.message)")
            }
        }
        #expect(try await h.jobs.info(queue: "default").ready == 0)
    }
}

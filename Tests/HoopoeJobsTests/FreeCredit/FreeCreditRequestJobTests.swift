import Foundation
import HoopoeCore
import HoopoeJSON
import HoopoeJobs
import Redis
import Testing
import TestSupport

/// `freecredit.request` end to end: real `hoopoe worker` processes, the domain clock injected through Redis.
@Suite("Free credit: freecredit.request end to end")
struct FreeCreditRequestJobTests {
    static let noon = FreeCreditLimiterTests.noon

    private func request(_ h: DomainHarness, user: String, id: String, amount: Int? = nil) async throws {
        var payload: [String: JSONValue] = ["user_id": .string(user), "request_id": .string(id)]
        if let amount { payload["amount"] = .integer(Int64(amount)) }
        try await h.enqueue(FreeCreditRequestJob.type, .object(payload))
    }

    @Test("a request is granted: event, result key and a notification the caller can BLPOP")
    func happyPath() async throws {
        let h = try await DomainHarness()
        try await h.setClock(Self.noon)
        let worker = try await h.startWorker()
        defer { worker.signal(SIGTERM) }
        try await request(h, user: "176", id: "req-1", amount: 93)
        let granted = try await h.waitForEvents("freecredit.granted")
        #expect(granted.first?.data == ["user_id": "176", "request_id": "req-1", "amount": 93])
        #expect(granted.first?.at == Self.noon.timeIntervalSince1970)
        let popped = try await h.redis.send("BLPOP", "\(h.namespace):{freecredit}:notify:req-1", "5")
        let answer = try JSONDecoder().decode(FreeCreditAnswer.self, from: Data(popped.array?.last?.bytes ?? []))
        #expect(answer.isGranted && answer.amount == 93 && answer.requestID == "req-1")
        let stored = try await h.redis.send("GET", "\(h.namespace):{freecredit}:result:req-1")
        #expect(stored.bytes == popped.array?.last?.bytes)
        let ttl = try await h.redis.send("TTL", "\(h.namespace):{freecredit}:result:req-1").int ?? 0
        #expect(ttl > 600_000 && ttl <= 604_800)
        // The same request again (a re-delivery): the same answer, no second event.
        try await request(h, user: "176", id: "req-1", amount: 93)
        try await request(h, user: "176", id: "req-2")
        _ = try await h.waitForEvents("freecredit.rejected")
        try await h.waitUntilIdle()
        #expect(try await h.events("freecredit.granted").count == 1)
        worker.signal(SIGTERM)
        #expect(await worker.wait(timeout: .seconds(30)) == 0, "\(worker.output)")
    }

    /// A worker decides by Redis's clock, not its host's: with the host's, a worker whose clock ran more than the
    /// cooldown behind granted a user's credit and a worker with a true clock granted it again seconds later (the
    /// limiter compares one caller's `now` with another's grant). The worker here runs two hours ahead.
    @Test("a worker whose host clock runs ahead grants at Redis's time, and the next request waits the cooldown, not hours")
    func aWorkerDecidesByRedisClock() async throws {
        #expect(FileManager.default.fileExists(atPath: FakeClock.library), "libfaketime is missing: scripts/install-deps.sh installs it")
        let h = try await DomainHarness(environment: ["HOOPOE_CLOCK_KEY": ""])
        let offset = try await FakeClock.aheadOffset(preferred: 7_200, atLeast: 180)
        let worker = try await h.startWorker(environment: FakeClock.environment(offset: offset))
        defer { worker.signal(SIGTERM) }
        try await request(h, user: "skew", id: "skew-1")
        let granted = try #require(try await h.waitForEvents("freecredit.granted").first)
        let redisNow = Double(try await h.redis.send("TIME").array?.first?.string ?? "") ?? 0
        #expect(abs(granted.at - redisNow) < 60, "granted at \(granted.at), Redis's clock \(redisNow): \(worker.output)")
        try await request(h, user: "skew", id: "skew-2")
        let rejected = try #require(try await h.waitForEvents("freecredit.rejected").first)
        #expect((rejected.data["retry_after"]?.int64Value ?? 0) <= 120, "\(rejected.data)")
    }

    @Test("a repeated request_id is answered on the notify list at once: the replay pushes the stored answer again (one copy)")
    func repeatedRequestIsAnsweredAgain() async throws {
        let h = try await DomainHarness()
        try await h.setClock(Self.noon)
        let services = try h.services()
        let notify = "\(h.namespace):{freecredit}:notify:rep-1"
        try await h.run(FreeCreditRequestJob(services: services), ["user_id": "176", "request_id": "rep-1", "amount": 50])
        // The first caller took its answer.
        let first = try await h.redis.send("LPOP", notify)
        #expect(first.bytes != nil)
        // The same id asked again, twice (a double click): the caller blocked on the list gets the same answer now.
        try await h.run(FreeCreditRequestJob(services: services), ["user_id": "176", "request_id": "rep-1", "amount": 50])
        try await h.run(FreeCreditRequestJob(services: services), ["user_id": "176", "request_id": "rep-1", "amount": 50])
        #expect(try await h.redis.send("LLEN", notify).int == 1, "one copy, however often the id is replayed")
        let again = try await h.redis.send("BLPOP", notify, "1")
        #expect(again.array?.last?.bytes == first.bytes)
        #expect(try await h.events("freecredit.granted").count == 1)
    }

    @Test("50 concurrent requests for one user, worker concurrency 20: exactly one granted, 49 rejected with retry_after 120")
    func fiftyConcurrentRequests() async throws {
        let h = try await DomainHarness()
        try await h.setClock(Self.noon)
        let jobs = (0..<50).map { index in
            (type: FreeCreditRequestJob.type, payload: JSONValue.object(["user_id": "42", "request_id": .string("c\(index)")]), options: EnqueueOptions())
        }
        _ = try await h.jobs.enqueueBatch(jobs)
        let worker = try await h.startWorker(["--concurrency", "20"])
        defer { worker.signal(SIGTERM) }
        let rejected = try await h.waitForEvents("freecredit.rejected", count: 49, timeout: .seconds(60))
        try await h.waitUntilIdle()
        let granted = try await h.events("freecredit.granted")
        #expect(granted.count == 1)
        #expect(rejected.count == 49)
        #expect(rejected.allSatisfy { $0.data["reason"] == "cooldown" && $0.data["retry_after"] == 120 && $0.data["user_id"] == "42" })
        let ids = Set((granted + rejected).compactMap { $0.data["request_id"]?.stringValue })
        #expect(ids.count == 50)
        worker.signal(SIGTERM)
        #expect(await worker.wait(timeout: .seconds(30)) == 0, "\(worker.output)")
    }

    @Test("cooldown then grant after 121 s; the monthly cap rejects with the seconds to the next Persian month, which grants again")
    func cooldownAndMonthThroughTheClock() async throws {
        let h = try await DomainHarness(environment: ["FREECREDIT_MONTHLY_CAP": "2"])
        let month = MonthCalendar.persian.month(of: Self.noon, in: .tehran)
        let start = month.end.addingTimeInterval(-600)
        try await h.setClock(start)
        let worker = try await h.startWorker()
        defer { worker.signal(SIGTERM) }
        try await request(h, user: "7", id: "t1")
        _ = try await h.waitForEvents("freecredit.granted", count: 1)
        try await h.setClock(start.addingTimeInterval(30))
        try await request(h, user: "7", id: "t2")
        let cooldown = try await h.waitForEvents("freecredit.rejected", count: 1)
        #expect(cooldown.last?.data["reason"] == "cooldown" && cooldown.last?.data["retry_after"] == 90)
        try await h.setClock(start.addingTimeInterval(121))
        try await request(h, user: "7", id: "t3")
        _ = try await h.waitForEvents("freecredit.granted", count: 2)
        try await h.setClock(start.addingTimeInterval(300))
        try await request(h, user: "7", id: "t4")
        let capped = try await h.waitForEvents("freecredit.rejected", count: 2)
        #expect(capped.last?.data == ["user_id": "7", "request_id": "t4", "reason": "monthly_limit", "retry_after": 300])
        try await h.setClock(month.end)
        try await request(h, user: "7", id: "t5")
        let all = try await h.waitForEvents("freecredit.granted", count: 3)
        #expect(all.last?.data["request_id"] == "t5")
        worker.signal(SIGTERM)
        #expect(await worker.wait(timeout: .seconds(30)) == 0, "\(worker.output)")
    }

    @Test("bad payloads go to the dead set with the reason and emit nothing")
    func badPayloads() async throws {
        let h = try await DomainHarness()
        let worker = try await h.startWorker()
        defer { worker.signal(SIGTERM) }
        try await h.enqueue(FreeCreditRequestJob.type, ["user_id": "1"])
        try await h.enqueue(FreeCreditRequestJob.type, ["user_id": "1", "request_id": "has space"])
        try await h.enqueue(FreeCreditRequestJob.type, ["user_id": "1", "request_id": "neg", "amount": -5])
        var dead: [JobEnvelope] = []
        #expect(try await eventually(timeout: .seconds(30)) {
            dead = try await h.dead()
            return dead.count == 3
        })
        let reasons = dead.map { ($0.deadReason ?? "") + " " + ($0.lastError ?? "") }.joined(separator: "\n")
        #expect(reasons.contains("request_id"))
        #expect(reasons.contains("amount must be a whole number in 1...1000000000"))
        // No domain event for bad input; the engine reports each dead job as job.dead (decision 0006).
        let events = try await h.events()
        #expect(events.filter { $0.type != "job.dead" }.isEmpty && events.count == dead.count)
        worker.signal(SIGTERM)
        #expect(await worker.wait(timeout: .seconds(30)) == 0, "\(worker.output)")
    }
}

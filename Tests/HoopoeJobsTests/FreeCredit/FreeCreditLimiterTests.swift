import Foundation
import HoopoeCore
import HoopoeJobs
import Redis
import Testing
import TestSupport

/// The limiter called directly (the synchronous path services use): one atomic Lua call per request.
@Suite("Free credit: the limiter script")
struct FreeCreditLimiterTests {
    /// 12 Azar 1403 (2 Dec 2024) 10:00 Tehran, well inside a Persian month.
    static let noon = Date(timeIntervalSince1970: 1_733_121_000)

    @Test("50 concurrent direct calls for one user: exactly one grant, 49 cooldown rejections with retry_after 120")
    func fiftyConcurrentCalls() async throws {
        let h = try await DomainHarness()
        let limiter = FreeCreditLimiter(services: try h.services())
        let answers = try await withThrowingTaskGroup(of: FreeCreditAnswer.self) { group in
            for index in 0..<50 {
                group.addTask {
                    try await limiter.request(userID: "176", requestID: DomainIdentifier(stringLiteral: "r\(index)"), amount: nil, now: Self.noon).answer
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(answers.filter(\.isGranted).count == 1)
        #expect(answers.first(where: \.isGranted)?.amount == 100)
        let rejected = answers.filter { !$0.isGranted }
        #expect(rejected.count == 49)
        #expect(rejected.allSatisfy { $0.reason == "cooldown" && $0.retryAfter == 120 })
    }

    @Test("the cooldown counts from the grant by the given clock: 60 s later 60 s remain, 121 s later a grant")
    func cooldownExpires() async throws {
        let h = try await DomainHarness()
        let limiter = FreeCreditLimiter(services: try h.services())
        #expect(try await limiter.request(userID: "u1", requestID: "a", amount: 93, now: Self.noon).answer.amount == 93)
        let early = try await limiter.request(userID: "u1", requestID: "b", amount: 93, now: Self.noon.addingTimeInterval(60)).answer
        #expect(early.reason == "cooldown" && early.retryAfter == 60)
        // Another user is not affected.
        #expect(try await limiter.request(userID: "u2", requestID: "c", amount: nil, now: Self.noon.addingTimeInterval(60)).answer.isGranted)
        #expect(try await limiter.request(userID: "u1", requestID: "d", amount: nil, now: Self.noon.addingTimeInterval(121)).answer.isGranted)
    }

    @Test("a repeated request id gets the stored answer and never grants twice")
    func idempotentPerRequest() async throws {
        let h = try await DomainHarness()
        let limiter = FreeCreditLimiter(services: try h.services())
        let first = try await limiter.request(userID: "u1", requestID: "same", amount: 50, now: Self.noon)
        #expect(first.answer.isGranted && !first.replayed)
        // Even after the cooldown, the same id is the same answer, and the month's count did not move.
        let again = try await limiter.request(userID: "u1", requestID: "same", amount: 50, now: Self.noon.addingTimeInterval(500))
        #expect(again.replayed && again.answer == first.answer)
        let next = try await limiter.request(userID: "u1", requestID: "other", amount: 50, now: Self.noon.addingTimeInterval(500)).answer
        #expect(next.isGranted && next.monthUsed == 2)
    }

    /// Per-user sequence numbers as request ids ("1", "2"): user B's request "1" got user A's grant, uncounted.
    @Test("a request id another user's request was decided under is refused, on the job's path and the direct one")
    func aRequestIDOfAnotherUserIsRefused() async throws {
        let h = try await DomainHarness()
        let services = try h.services()
        let limiter = FreeCreditLimiter(services: services)
        #expect(try await limiter.request(userID: "u1", requestID: "1", amount: nil, now: Self.noon).answer.isGranted)
        await #expect(throws: FreeCreditRequestIDReused.self) { try await limiter.request(userID: "u2", requestID: "1", amount: nil, now: Self.noon) }
        let failure = try await h.failure(of: FreeCreditRequestJob(services: services), FreeCreditRequestJob.Payload(userID: "u2", requestID: "1"))
        guard case .permanent = failure?.disposition else { Issue.record("ended \(String(describing: failure))"); return }
        #expect(failure?.message.contains("request_id 1 was decided for another user") == true, "\(String(describing: failure))")
        // The same user's repeat still gets its answer; u2 with its own id is granted and counted.
        #expect(try await limiter.request(userID: "u1", requestID: "1", amount: nil, now: Self.noon).replayed)
        #expect(try await limiter.request(userID: "u2", requestID: "u2-1", amount: nil, now: Self.noon).answer.isGranted)
    }

    /// 0 means no cap, as `GIFT_MONTHLY_LIMIT`'s 0 does; as a cap of 0 it refused every request.
    @Test("FREECREDIT_MONTHLY_CAP=0: no monthly cap, the cooldown alone")
    func aCapOfZeroIsNoCap() async throws {
        let h = try await DomainHarness(environment: ["FREECREDIT_MONTHLY_CAP": "0"])
        let limiter = FreeCreditLimiter(services: try h.services())
        for index in 0..<12 {
            let now = Self.noon.addingTimeInterval(Double(index) * 121)
            let answer = try await limiter.request(userID: "u", requestID: DomainIdentifier(stringLiteral: "z\(index)"), amount: nil, now: now).answer
            #expect(answer.isGranted, "request \(index): \(answer)")
        }
        let early = try await limiter.request(userID: "u", requestID: "z-early", amount: nil, now: Self.noon.addingTimeInterval(11 * 121 + 10)).answer
        #expect(early.reason == "cooldown")
    }

    @Test("the monthly cap lifts at the Persian month boundary (Tehran), retry_after counting to it")
    func monthlyCapPersian() async throws {
        let h = try await DomainHarness(environment: ["FREECREDIT_MONTHLY_CAP": "3"])
        let limiter = FreeCreditLimiter(services: try h.services())
        let month = MonthCalendar.persian.month(of: Self.noon, in: .tehran)
        #expect(month.label == "1403-09")
        // 1 Dey 1403 = 21 Dec 2024, midnight Tehran = 20:30 UTC the day before.
        #expect(month.end == Date(timeIntervalSince1970: 1_734_726_600))
        var now = month.end.addingTimeInterval(-1_000)
        for index in 0..<3 {
            #expect(try await limiter.request(userID: "u", requestID: DomainIdentifier(stringLiteral: "m\(index)"), amount: nil, now: now).answer.isGranted)
            now.addTimeInterval(121)
        }
        let capped = try await limiter.request(userID: "u", requestID: "m3", amount: nil, now: now).answer
        #expect(capped.reason == "monthly_limit")
        #expect(capped.retryAfter == Int(month.end.timeIntervalSince(now).rounded(.up)))
        let nextMonth = try await limiter.request(userID: "u", requestID: "m4", amount: nil, now: month.end.addingTimeInterval(1)).answer
        #expect(nextMonth.isGranted && nextMonth.monthUsed == 1)
    }

    @Test("a grant just before the month ends: the capped request's retry_after waits for its cooldown, not the month alone")
    func monthlyCapRetryAfterCoversTheCooldown() async throws {
        let h = try await DomainHarness(environment: ["FREECREDIT_MONTHLY_CAP": "1"])
        let limiter = FreeCreditLimiter(services: try h.services())
        let month = MonthCalendar.persian.month(of: Self.noon, in: .tehran)
        #expect(try await limiter.request(userID: "u", requestID: "g", amount: nil, now: month.end.addingTimeInterval(-10)).answer.isGranted)
        let now = month.end.addingTimeInterval(-5)
        let capped = try await limiter.request(userID: "u", requestID: "c", amount: nil, now: now).answer
        #expect(capped.reason == "monthly_limit" && capped.retryAfter == 115, "the cooldown's end, 115 s away (the month's, 5 s): \(capped)")
        // Waiting exactly that long succeeds; waiting until the month's end alone was refused for the cooldown.
        let early = try await limiter.request(userID: "u", requestID: "e", amount: nil, now: month.end.addingTimeInterval(1)).answer
        #expect(early.reason == "cooldown")
        #expect(try await limiter.request(userID: "u", requestID: "w", amount: nil, now: now.addingTimeInterval(115)).answer.isGranted)
    }

    @Test("FREECREDIT_MONTH_CALENDAR=gregorian counts Gregorian months in Tehran time")
    func monthlyCapGregorian() async throws {
        let h = try await DomainHarness(environment: ["FREECREDIT_MONTHLY_CAP": "1", "FREECREDIT_MONTH_CALENDAR": "gregorian"])
        let limiter = FreeCreditLimiter(services: try h.services())
        let month = MonthCalendar.gregorian.month(of: Self.noon, in: .tehran)
        #expect(month.label == "2024-12")
        #expect(try await limiter.request(userID: "u", requestID: "g1", amount: nil, now: Self.noon).answer.isGranted)
        let capped = try await limiter.request(userID: "u", requestID: "g2", amount: nil, now: Self.noon.addingTimeInterval(200)).answer
        #expect(capped.reason == "monthly_limit")
        // 1 Jan 2025 00:00 Tehran.
        #expect(capped.retryAfter == 1_735_677_000 - 1_733_121_200)
    }

    @Test("a bad setting names its variable")
    func badSettings() {
        #expect(throws: ConfigurationError.self) { try FreeCreditSettings(environment: EnvironmentReader(["FREECREDIT_MONTH_CALENDAR": "lunar"])) }
        do {
            _ = try FreeCreditSettings(environment: EnvironmentReader(["FREECREDIT_COOLDOWN_SECONDS": "soon"]))
            Issue.record("expected an error")
        } catch {
            #expect(error.key == "FREECREDIT_COOLDOWN_SECONDS")
        }
    }
}

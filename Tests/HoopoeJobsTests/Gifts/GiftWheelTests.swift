import Foundation
import HoopoeJSON
import HoopoeJobs
import Redis
import Testing
import TestSupport

/// The wheel limits called directly, as services do before (or while) awarding a gift.
@Suite("Gifts: the wheel limits script")
struct GiftWheelTests {
    static let noon = FreeCreditLimiterTests.noon

    @Test("one gift per rolling 24 h: refused until 24 h after the last, with the seconds left; a re-count is a no-op")
    func rollingDay() async throws {
        let h = try await DomainHarness()
        let wheel = GiftWheel(services: try h.services())
        #expect(try await wheel.check(userID: "u", now: Self.noon).kind == .allowed)
        #expect(try await wheel.record(userID: "u", userGiftID: "g1", now: Self.noon).kind == .recorded)
        #expect(try await wheel.record(userID: "u", userGiftID: "g1", now: Self.noon.addingTimeInterval(10)).kind == .duplicate)
        let refused = try await wheel.record(userID: "u", userGiftID: "g2", now: Self.noon.addingTimeInterval(3600))
        // The first whole second more than a day after the gift: waiting retry_after is enough, a second less is not.
        #expect(refused.kind == .dailyLimit && refused.retryAfter == 82_801)
        #expect(try await wheel.check(userID: "u", now: Self.noon.addingTimeInterval(3600)) == refused)
        #expect(try await wheel.check(userID: "u", now: Self.noon.addingTimeInterval(3600 + 82_800)).kind == .dailyLimit)
        #expect(try await wheel.check(userID: "u", now: Self.noon.addingTimeInterval(3600 + 82_801)).kind == .allowed)
        #expect(try await wheel.check(userID: "other", now: Self.noon.addingTimeInterval(3600)).kind == .allowed)
        let next = try await wheel.record(userID: "u", userGiftID: "g2", now: Self.noon.addingTimeInterval(86_401))
        #expect(next.kind == .recorded && next.dayCount == 1 && next.monthCount == 2)
    }

    /// gift.used ran before gift.granted (the grant was retrying): the gift still counts, so the next spin that day is
    /// refused. The grant skipped the wheel for a gift already used, and the user could win another the same day.
    @Test("a gift used before its grant ran still counts against the day's limit")
    func aGiftUsedBeforeItsGrantCounts() async throws {
        let h = try await DomainHarness()
        try await h.setClock(Self.noon)
        let services = try h.services()
        try await h.run(GiftUsedJob(services: services), ["user_id": "u", "user_gift_id": "g1"])
        try await h.run(GiftGrantedJob(services: services), ["user_id": "u", "user_gift_id": "g1", "expires_at": .integer(Int64(Self.noon.timeIntervalSince1970) + 86_400)])
        let verdict = try await GiftWheel(services: services).check(userID: "u", now: Self.noon.addingTimeInterval(60))
        #expect(verdict.kind == .dailyLimit, "\(verdict)")
        #expect(try await h.events("gift.rejected").isEmpty, "a gift the user has is not refused")
    }

    /// A late grant counted at its won_at in the month before set the whole key's TTL to that month's end plus two
    /// days: this month's gifts went with it, and the monthly maximum could be passed.
    @Test("a gift counted at a time in the month before does not shorten the key's life for this month's gifts")
    func aLateGiftOfLastMonthKeepsThisMonthsTTL() async throws {
        let h = try await DomainHarness(environment: ["GIFT_DAILY_LIMIT": "2"])
        let wheel = GiftWheel(services: try h.services())
        let month = MonthCalendar.persian.month(of: Self.noon, in: .tehran)
        #expect(try await wheel.record(userID: "u", userGiftID: "g1", now: month.start.addingTimeInterval(1800)).kind == .recorded)
        let before = try #require(try await h.redis.send("TTL", wheel.key(userID: "u")).int)
        #expect(try await wheel.record(userID: "u", userGiftID: "g0", now: month.start.addingTimeInterval(-600)).kind == .recorded)
        let after = try #require(try await h.redis.send("TTL", wheel.key(userID: "u")).int)
        #expect(after >= before - 2, "TTL \(before) s, then \(after) s")
        #expect(after > 20 * 86_400)
    }

    /// The script counted from the window's start to +inf: a gift granted late, counted at its won_at, was refused for
    /// a gift the user won more than a day after it (granted first), and for one of the next month.
    @Test("a gift granted 25 h late at its won_at is not refused for the user's next gift, won 24.5 h after it and granted first")
    func aLateGrantIsJudgedByItsOwnWindows() async throws {
        let h = try await DomainHarness()
        let services = try h.services()
        let won = Self.noon
        let next = won.addingTimeInterval(24.5 * 3600)
        try await h.setClock(next)
        try await h.run(GiftGrantedJob(services: services), [
            "user_id": "u", "user_gift_id": "g-next", "expires_at": .double(next.addingTimeInterval(86_400).timeIntervalSince1970),
            "won_at": .double(next.timeIntervalSince1970),
        ])
        try await h.setClock(won.addingTimeInterval(25 * 3600))
        try await h.run(GiftGrantedJob(services: services), [
            "user_id": "u", "user_gift_id": "g-late", "expires_at": .double(won.addingTimeInterval(30 * 3600).timeIntervalSince1970),
            "won_at": .double(won.timeIntervalSince1970),
        ])
        let rejected = try await h.events("gift.rejected")
        #expect(rejected.isEmpty, "\(rejected.map(\.data))")
        #expect(try await GiftStore(services: services).fields("g-late")["state"] == "granted")

        // A gift within a day after a late one still counts against it, as it did in order.
        let wheel = GiftWheel(services: services)
        #expect(try await wheel.record(userID: "v", userGiftID: "b", now: won.addingTimeInterval(12 * 3600)).kind == .recorded)
        #expect(try await wheel.record(userID: "v", userGiftID: "a", now: won).kind == .dailyLimit)
        // Exactly a day apart: refused whichever is counted first (the window's start counts, so its end does too).
        #expect(try await wheel.record(userID: "w", userGiftID: "b", now: won.addingTimeInterval(86_400)).kind == .recorded)
        #expect(try await wheel.record(userID: "w", userGiftID: "a", now: won).kind == .dailyLimit)
    }

    @Test("a late gift is counted against its own calendar day and its own month, not the gifts after them")
    func aLateGrantIsJudgedByItsOwnDayAndMonth() async throws {
        let calendarDay = try await DomainHarness(environment: ["GIFT_DAY_WINDOW": "calendar"])
        var wheel = GiftWheel(services: try calendarDay.services())
        // 10:00 Tehran; the next gift the next morning at 08:00, counted first.
        #expect(try await wheel.record(userID: "u", userGiftID: "b", now: Self.noon.addingTimeInterval(22 * 3600)).kind == .recorded)
        #expect(try await wheel.record(userID: "u", userGiftID: "a", now: Self.noon).kind == .recorded)
        #expect(try await wheel.record(userID: "u", userGiftID: "c", now: Self.noon.addingTimeInterval(3600)).kind == .dailyLimit)

        let monthly = try await DomainHarness(environment: ["GIFT_MONTHLY_LIMIT": "1"])
        wheel = GiftWheel(services: try monthly.services())
        let month = MonthCalendar.persian.month(of: Self.noon, in: .tehran)
        #expect(try await wheel.record(userID: "u", userGiftID: "next-month", now: month.end.addingTimeInterval(3 * 86_400)).kind == .recorded)
        let late = try await wheel.record(userID: "u", userGiftID: "this-month", now: month.end.addingTimeInterval(-3 * 86_400))
        #expect(late.kind == .recorded && late.monthCount == 1, "\(late)")
        #expect(try await wheel.record(userID: "u", userGiftID: "again", now: month.end.addingTimeInterval(-86_400)).kind == .monthlyLimit)
    }

    @Test("GIFT_DAY_WINDOW=calendar: the next gift is allowed from local midnight")
    func calendarDay() async throws {
        let h = try await DomainHarness(environment: ["GIFT_DAY_WINDOW": "calendar"])
        let wheel = GiftWheel(services: try h.services())
        #expect(try await wheel.record(userID: "u", userGiftID: "g1", now: Self.noon).kind == .recorded)
        let refused = try await wheel.check(userID: "u", now: Self.noon)
        // 10:00 Tehran: 14 h to midnight.
        #expect(refused.kind == .dailyLimit && refused.retryAfter == 14 * 3600)
        #expect(try await wheel.check(userID: "u", now: Self.noon.addingTimeInterval(14 * 3600)).kind == .allowed)
    }

    @Test("the monthly maximum: refused until the next Persian month, then allowed")
    func monthlyLimit() async throws {
        let h = try await DomainHarness(environment: ["GIFT_MONTHLY_LIMIT": "3"])
        let wheel = GiftWheel(services: try h.services())
        let month = MonthCalendar.persian.month(of: Self.noon, in: .tehran)
        var now = month.start.addingTimeInterval(3600)
        for index in 0..<3 {
            #expect(try await wheel.record(userID: "u", userGiftID: DomainIdentifier(stringLiteral: "g\(index)"), now: now).kind == .recorded)
            now.addTimeInterval(86_401)
        }
        let refused = try await wheel.record(userID: "u", userGiftID: "g3", now: now)
        #expect(refused.kind == .monthlyLimit && refused.monthCount == 3)
        #expect(refused.retryAfter == Int(month.end.timeIntervalSince(now)))
        #expect(try await wheel.record(userID: "u", userGiftID: "g3", now: month.end.addingTimeInterval(10)).kind == .recorded)
    }

    @Test("the monthly maximum reached by a gift an hour before the month ends: retry_after waits out the rolling day too")
    func monthlyLimitRetryAfterCoversTheRollingDay() async throws {
        let h = try await DomainHarness(environment: ["GIFT_MONTHLY_LIMIT": "1"])
        let wheel = GiftWheel(services: try h.services())
        let month = MonthCalendar.persian.month(of: Self.noon, in: .tehran)
        let won = month.end.addingTimeInterval(-3600)
        #expect(try await wheel.record(userID: "u", userGiftID: "g1", now: won).kind == .recorded)
        let now = won.addingTimeInterval(60)
        let refused = try await wheel.check(userID: "u", now: now)
        // The month ends in 59 min; the day's limit holds until 24 h after the gift.
        #expect(refused.kind == .monthlyLimit && refused.retryAfter == 86_401 - 60, "\(refused)")
        #expect(try await wheel.check(userID: "u", now: month.end.addingTimeInterval(10)).kind == .dailyLimit, "the month's end alone is too early")
        #expect(try await wheel.check(userID: "u", now: now.addingTimeInterval(Double(refused.retryAfter))).kind == .allowed)
    }

    @Test("concurrent records for one user: exactly one gift counted")
    func concurrentRecords() async throws {
        let h = try await DomainHarness()
        let wheel = GiftWheel(services: try h.services())
        let kinds = try await withThrowingTaskGroup(of: GiftWheelVerdict.Kind.self) { group in
            for index in 0..<30 {
                group.addTask { try await wheel.record(userID: "u", userGiftID: DomainIdentifier(stringLiteral: "g\(index)"), now: Self.noon).kind }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(kinds.filter { $0 == .recorded }.count == 1)
        #expect(kinds.filter { $0 == .dailyLimit }.count == 29)
    }

    @Test("bad gift settings name their variable")
    func badSettings() {
        for (key, value) in [("GIFT_DAY_WINDOW", "weekly"), ("GIFT_MONTHLY_LIMIT", "-1"), ("GIFT_MONTH_CALENDAR", "lunar"), ("GIFT_REMINDER_BEFORE_HOURS", "x")] {
            do {
                _ = try GiftSettings(environment: EnvironmentReader([key: value]))
                Issue.record("\(key)=\(value) was accepted")
            } catch {
                #expect(error.key == key)
            }
        }
    }
}

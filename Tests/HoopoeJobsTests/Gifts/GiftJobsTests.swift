import Foundation
import HoopoeCore
import HoopoeJSON
import HoopoeJobs
import ProviderFakes
import Redis
import Testing
import TestSupport

/// `gift.granted`, `gift.used` and `gift.expire` end to end: real `hoopoe worker` processes, the domain clock
/// injected through Redis.
@Suite("Gifts: gift.granted, gift.used, gift.expire end to end")
struct GiftJobsTests {
    static let noon = FreeCreditLimiterTests.noon

    private func grant(_ h: DomainHarness, user: String = "176", gift: String, expiresAt: Date, phone: String? = nil, service: String? = nil) async throws {
        var payload: [String: JSONValue] = ["user_id": .string(user), "user_gift_id": .string(gift), "expires_at": .integer(Int64(expiresAt.timeIntervalSince1970))]
        if let phone { payload["phone"] = .string(phone) }
        if let service { payload["service_name"] = .string(service) }
        try await h.enqueue(GiftGrantedJob.type, .object(payload))
    }

    private func state(_ h: DomainHarness, _ gift: String) async throws -> [String: String] {
        try await GiftStore(services: try h.services()).fields(DomainIdentifier(stringLiteral: gift))
    }

    @Test("a grant with a phone schedules gift.expire at expires_at + the 5-minute grace and the reminder SMS 3 h before expires_at, once even when re-delivered")
    func grantSchedulesExpiryAndReminder() async throws {
        let h = try await DomainHarness()
        try await h.setClock(Self.noon)
        let worker = try await h.startWorker()
        defer { worker.signal(SIGTERM) }
        // 3 Dec 15:00 Tehran: the reminder at 12:00 is outside quiet hours (GiftReminderTimingTests covers the night).
        let expiresAt = Self.noon.addingTimeInterval(29 * 3600)
        let started = Date()
        try await grant(h, gift: "g-1", expiresAt: expiresAt, phone: "09121234567", service: "لایک  اینستاگرام")
        try await grant(h, gift: "g-1", expiresAt: expiresAt, phone: "09121234567", service: "لایک  اینستاگرام")
        #expect(try await eventually(timeout: .seconds(20)) { try await state(h, "g-1")["state"] == "granted" })
        try await h.waitUntilIdle()
        let expire = try #require(try await h.jobs.find(id: "gift.expire:g-1", queue: "default"))
        guard case .scheduled(let at) = expire.state else { Issue.record("gift.expire is \(expire.state)"); return }
        // The domain clock stands still at 10:00: the expiry is 29 h of real time from the grant, and the grace 300 s more.
        #expect(abs(at - started.addingTimeInterval(29 * 3600 + 300).timeIntervalSince1970) < 30)
        #expect(expire.envelope.payload == ["user_id": "176", "user_gift_id": "g-1", "expires_at": .integer(Int64(expiresAt.timeIntervalSince1970))]
            || expire.envelope.payload["expires_at"]?.doubleValue == expiresAt.timeIntervalSince1970)
        let reminder = try #require(try await h.jobs.find(id: "gift.reminder:g-1", queue: "default"))
        guard case .scheduled(let remindAt) = reminder.state else { Issue.record("the reminder is \(reminder.state)"); return }
        #expect(abs(remindAt - (at - 300 - 3 * 3600)) < 30)
        #expect(reminder.envelope.type == "sms.send")
        let sms = try JSONDecoder().decode(SMSSendPayload.self, from: Data(reminder.envelope.payload.encoded()))
        #expect(sms == SMSSendPayload(messageID: "gift.reminder:g-1", phone: "09121234567", template: "gift_reminder",
                                      tokens: ["token": "3", "token20": "لایک اینستاگرام"], userID: "176", purpose: "gift.reminder",
                                      notAfter: expiresAt.addingTimeInterval(-2 * 3600).timeIntervalSince1970))
        // Re-delivered: still one of each.
        let info = try await h.jobs.info(queue: "default")
        #expect(info.scheduled == 2)
        #expect(try await h.events().isEmpty)
        worker.signal(SIGTERM)
        #expect(await worker.wait(timeout: .seconds(30)) == 0, "\(worker.output)")
    }

    @Test("the reminder goes through the real sms.send to the fake Kavenegar as a gift-reminder lookup; a used gift's does not")
    func reminderIsSent() async throws {
        let h = try await DomainHarness()
        try await h.setClock(Self.noon)
        let worker = try await h.startWorker()
        defer { worker.signal(SIGTERM) }
        // Reminders 3 h from now (13:00 Tehran, outside quiet hours), made due by the test once g-8 is used: with g-8's
        // due 15 s after its grant, a loaded machine could run it before the test had seen it scheduled, used the gift
        // and seen the reminder cancelled.
        try await grant(h, gift: "g-7", expiresAt: Self.noon.addingTimeInterval(6 * 3600), phone: "09121234567", service: "فالوور")
        try await grant(h, user: "177", gift: "g-8", expiresAt: Self.noon.addingTimeInterval(6 * 3600), phone: "09351234567")
        // The gift is marked granted before its follow-ups are scheduled: wait for the reminders themselves.
        var reminders: [String: String] = [:]  // gift → its reminder's job id
        #expect(try await eventually(timeout: .seconds(20)) {
            for gift in ["g-7", "g-8"] where reminders[gift] == nil {
                reminders[gift] = try await h.jobs.find(id: "gift.reminder:\(gift)", queue: "default")?.envelope.id
            }
            return reminders.count == 2
        })
        try await h.enqueue(GiftUsedJob.type, ["user_id": "177", "user_gift_id": "g-8"])
        #expect(try await eventually(timeout: .seconds(10)) { try await h.jobs.find(id: "gift.reminder:g-8", queue: "default") == nil },
                "the used gift's reminder is cancelled before its time")
        // Both due now: g-7's goes out; g-8's is gone (`XX` adds nothing), had the cancel left it, it would go too.
        for id in reminders.values {
            try await h.redis.send("ZADD", h.jobs.keys("default").scheduled, "XX", String(Date().timeIntervalSince1970), id)
        }
        let sent = try await h.waitForEvents("sms.sent", timeout: .seconds(30))
        #expect(sent.first?.data["message_id"] == "gift.reminder:g-7")
        #expect(sent.first?.data["purpose"] == "gift.reminder")
        try await Task.sleep(for: .seconds(5))
        try await h.waitUntilIdle()
        let lookups = await h.control.requests(to: .kavenegarLookup).map { String(decoding: $0.body, as: UTF8.self) }
        #expect(lookups.count == 1)
        #expect(lookups.first?.contains("template=gift-reminder") == true)
        #expect(lookups.first?.contains("token=3") == true)
        #expect(try await h.events("sms.sent").count == 1)
        #expect(try await h.dead().isEmpty)
        worker.signal(SIGTERM)
        #expect(await worker.wait(timeout: .seconds(30)) == 0, "\(worker.output)")
    }

    @Test("a reminder that quiet hours put off under another job id does not go out once its gift is used, nor once it expired")
    func aPutOffReminderOfAUsedOrExpiredGiftIsNotSent() async throws {
        let h = try await DomainHarness()
        let services = try h.services()
        // Two users: a user is granted one gift a day.
        for (user, gift, ending) in [("176", "g-20", GiftUsedJob.type), ("177", "g-21", GiftExpireJob.type)] {
            let sms = SMSSendPayload(messageID: "gift.reminder:\(gift)", phone: "09121234567", template: "gift_reminder",
                                     tokens: ["token": "3", "token20": "هدیه"], userID: user, purpose: "gift.reminder")
            // A backlog: the reminder runs at 23:00 and is put off to 08:00 as another job.
            try await h.setClock(SMSTest.tehran(2024, 11, 23, 23))
            await #expect(throws: JobFailure.self) {
                try await SMSSendJob(services: services).run(sms, context: h.context(type: SMSSendJob.type, id: "gift.reminder:\(gift)"))
            }
            try await h.run(GiftGrantedJob(services: services), ["user_id": .string(user), "user_gift_id": .string(gift),
                                                                "expires_at": .integer(Int64(SMSTest.tehran(2024, 11, 24, 2).timeIntervalSince1970))])
            // Used at 23:30, or expired at 02:00.
            if ending == GiftUsedJob.type {
                try await h.run(GiftUsedJob(services: services), ["user_id": .string(user), "user_gift_id": .string(gift)])
            } else {
                try await h.setClock(SMSTest.tehran(2024, 11, 24, 2))
                try await h.run(GiftExpireJob(services: services), ["user_id": .string(user), "user_gift_id": .string(gift)])
            }
            // 08:00: the put-off reminder runs, and sends nothing.
            try await h.setClock(SMSTest.tehran(2024, 11, 24, 8))
            try await SMSSendJob(services: services).run(sms, context: h.context(type: SMSSendJob.type, id: "put-off-\(gift)"))
        }
        #expect(try await h.events("gift.rejected").isEmpty)
        #expect(await h.control.requests(to: .kavenegarLookup).isEmpty)
        #expect(try await h.events("sms.sent").isEmpty)
    }

    /// The reminder carried no `not_after`: held up by `sms.send`'s retries it said "3 hours left" at 17:07 for an 18:00
    /// expiry, or went out after the gift was gone.
    @Test("a gift reminder run more than an hour after its time is not sent: sms.failed (outdated)")
    func aLateGiftReminderIsNotSent() async throws {
        let h = try await DomainHarness()
        let services = try h.services()
        try await h.setClock(SMSTest.tehran(2024, 11, 23, 10))
        let expiresAt = SMSTest.tehran(2024, 11, 23, 18)
        try await h.run(GiftGrantedJob(services: services), ["user_id": "176", "user_gift_id": "g-late-reminder", "phone": "09121234567",
                                                            "expires_at": .integer(Int64(expiresAt.timeIntervalSince1970))])
        let reminder = try #require(try await h.jobs.find(id: "gift.reminder:g-late-reminder", queue: "default"))
        let sms = try JSONDecoder().decode(SMSSendPayload.self, from: Data(reminder.envelope.payload.encoded()))
        #expect(sms.tokens["token"] == "3")
        #expect(sms.notAfter == SMSTest.tehran(2024, 11, 23, 16).timeIntervalSince1970, "an hour after 15:00")
        try await h.setClock(SMSTest.tehran(2024, 11, 23, 17, 7))
        let failure = try await h.failure(of: SMSSendJob(services: services), sms, id: "gift.reminder:g-late-reminder")
        #expect(failure?.disposition == .discard, "\(String(describing: failure))")
        #expect(await h.control.requests(to: .kavenegarLookup).isEmpty)
        #expect(try await h.events("sms.failed").first?.data["reason"]?.stringValue?.hasPrefix("outdated:") == true)
    }

    @Test("a gift used before it expires: no gift.expired, no reminder left, and a late grant schedules nothing")
    func usedBeforeExpiry() async throws {
        let h = try await DomainHarness()
        try await h.setClock(Self.noon)
        let worker = try await h.startWorker()
        defer { worker.signal(SIGTERM) }
        let expiresAt = Self.noon.addingTimeInterval(86_400)
        try await grant(h, gift: "g-2", expiresAt: expiresAt, phone: "09121234567")
        #expect(try await eventually(timeout: .seconds(20)) { try await h.jobs.info(queue: "default").scheduled == 2 })
        try await h.enqueue(GiftUsedJob.type, ["user_id": "176", "user_gift_id": "g-2"])
        #expect(try await eventually(timeout: .seconds(20)) { try await state(h, "g-2")["state"] == "used" })
        try await h.waitUntilIdle()
        #expect(try await h.jobs.info(queue: "default").scheduled == 0)
        #expect(try await h.jobs.find(id: "gift.expire:g-2", queue: "default") == nil)
        #expect(try await h.jobs.find(id: "gift.reminder:g-2", queue: "default") == nil)
        // A gift.expire that was already running when the gift was used (simulated: enqueued now) does nothing.
        try await h.setClock(expiresAt.addingTimeInterval(301))
        try await h.enqueue(GiftExpireJob.type, ["user_id": "176", "user_gift_id": "g-2", "expires_at": .integer(Int64(expiresAt.timeIntervalSince1970))])
        // gift.used before gift.granted (out of order): the late grant schedules nothing.
        try await h.enqueue(GiftUsedJob.type, ["user_id": "176", "user_gift_id": "g-3"])
        #expect(try await eventually(timeout: .seconds(20)) { try await state(h, "g-3")["state"] == "used" })
        try await grant(h, gift: "g-3", expiresAt: expiresAt.addingTimeInterval(86_400), phone: "09121234567")
        try await h.waitUntilIdle()
        #expect(try await h.jobs.info(queue: "default").scheduled == 0)
        #expect(try await state(h, "g-2")["state"] == "used")
        #expect(try await h.events("gift.expired").isEmpty)
        #expect(try await h.dead().isEmpty)
        worker.signal(SIGTERM)
        #expect(await worker.wait(timeout: .seconds(30)) == 0, "\(worker.output)")
    }

    @Test("30 gifts granted and used at the same moment (worker concurrency 20): every gift used, nothing left scheduled")
    func grantAndUseRace() async throws {
        let h = try await DomainHarness()
        try await h.setClock(Self.noon)
        var jobs: [(type: String, payload: JSONValue, options: EnqueueOptions)] = []
        for index in 0..<30 {
            let ids: [String: JSONValue] = ["user_id": .string("u\(index)"), "user_gift_id": .string("race-\(index)")]
            var granted = ids
            granted["expires_at"] = .integer(Int64(Self.noon.timeIntervalSince1970) + 29 * 3600)
            granted["phone"] = "09121234567"
            let pair = [(type: GiftGrantedJob.type, payload: JSONValue.object(granted), options: EnqueueOptions()),
                        (type: GiftUsedJob.type, payload: JSONValue.object(ids), options: EnqueueOptions())]
            jobs += index.isMultiple(of: 2) ? pair : pair.reversed()
        }
        _ = try await h.jobs.enqueueBatch(jobs)
        let worker = try await h.startWorker(["--concurrency", "20"])
        defer { worker.signal(SIGTERM) }
        try await h.waitUntilIdle(timeout: .seconds(60))
        #expect(try await h.jobs.info(queue: "default").scheduled == 0)
        for index in 0..<30 {
            #expect(try await state(h, "race-\(index)")["state"] == "used")
        }
        #expect(try await h.dead().isEmpty)
        worker.signal(SIGTERM)
        #expect(await worker.wait(timeout: .seconds(30)) == 0, "\(worker.output)")
    }

    @Test("an unused gift expires at expires_at (+ the grace): marked expired, one gift.expired, nothing more on a re-run")
    func expires() async throws {
        let h = try await DomainHarness(environment: ["GIFT_EXPIRE_GRACE_SECONDS": "1"])
        try await h.setClock(Self.noon)
        let worker = try await h.startWorker()
        defer { worker.signal(SIGTERM) }
        // Expires 2 s from now; the reminder time (3 h before) has passed, so none is scheduled.
        let expiresAt = Self.noon.addingTimeInterval(2)
        try await grant(h, gift: "g-4", expiresAt: expiresAt, phone: "09121234567")
        #expect(try await eventually(timeout: .seconds(20)) { try await state(h, "g-4")["state"] == "granted" })
        #expect(try await h.jobs.find(id: "gift.reminder:g-4", queue: "default") == nil)
        try await h.setClock(expiresAt.addingTimeInterval(2))
        let expired = try await h.waitForEvents("gift.expired", timeout: .seconds(30))
        #expect(expired.first?.data == ["user_id": "176", "user_gift_id": "g-4"])
        #expect(try await state(h, "g-4")["state"] == "expired")
        let ttl = try await h.redis.send("TTL", "\(h.namespace):{gifts}:gift:g-4").int ?? 0
        #expect(ttl > 29 * 86_400 && ttl <= 30 * 86_400 + 10)
        // A second gift.expire (re-delivery) and a late gift.used change nothing.
        try await h.enqueue(GiftExpireJob.type, ["user_id": "176", "user_gift_id": "g-4"])
        try await h.enqueue(GiftUsedJob.type, ["user_id": "176", "user_gift_id": "g-4"])
        try await h.waitUntilIdle()
        #expect(try await h.events("gift.expired").count == 1)
        #expect(try await state(h, "g-4")["state"] == "expired")
        worker.signal(SIGTERM)
        #expect(await worker.wait(timeout: .seconds(30)) == 0, "\(worker.output)")
    }

    /// The panel accepts a use until `expired_at`; its `gift.used` reaches a worker a moment later. Run at the expiry
    /// itself, `gift.expire` won that race and announced a gift the panel had accepted as expired.
    @Test("a gift used in its last moments, its gift.used landing just after expires_at, is not announced expired")
    func usedInItsLastMoments() async throws {
        let h = try await DomainHarness()
        let services = try h.services()
        try await h.setClock(Self.noon)
        let expiresAt = Self.noon.addingTimeInterval(3600)
        let gift = GiftGrantedJob.Payload(userID: "176", userGiftID: "g-last", expiresAt: expiresAt.timeIntervalSince1970)
        #expect(try await h.failure(of: GiftGrantedJob(services: services), gift) == nil)
        let expire = GiftExpireJob.Payload(userID: "176", userGiftID: "g-last", expiresAt: expiresAt.timeIntervalSince1970)
        try await h.setClock(expiresAt)
        let early = try await h.failure(of: GiftExpireJob(services: services), expire, id: "gift.expire:g-last")
        guard case .retry(let at?) = early?.disposition else { Issue.record("gift.expire at the expiry ended \(String(describing: early))"); return }
        #expect(at - Date().timeIntervalSince1970 > 290, "it waits out the grace")
        try await h.setClock(expiresAt.addingTimeInterval(3))
        #expect(try await h.failure(of: GiftUsedJob(services: services), GiftUsedJob.Payload(userID: "176", userGiftID: "g-last")) == nil)
        try await h.setClock(expiresAt.addingTimeInterval(301))
        #expect(try await h.failure(of: GiftExpireJob(services: services), expire, id: "gift.expire:g-last") == nil)
        #expect(try await state(h, "g-last")["state"] == "used")
        #expect(try await h.events("gift.expired").isEmpty)
    }

    @Test("a grant over the wheel limits: gift.rejected with the reason and retry_after, nothing scheduled")
    func overTheLimit() async throws {
        let h = try await DomainHarness()
        try await h.setClock(Self.noon)
        let worker = try await h.startWorker()
        defer { worker.signal(SIGTERM) }
        try await grant(h, gift: "g-5", expiresAt: Self.noon.addingTimeInterval(86_400))
        #expect(try await eventually(timeout: .seconds(20)) { try await state(h, "g-5")["state"] == "granted" })
        try await h.setClock(Self.noon.addingTimeInterval(600))
        try await grant(h, gift: "g-6", expiresAt: Self.noon.addingTimeInterval(87_000), phone: "09121234567")
        let rejected = try await h.waitForEvents("gift.rejected")
        #expect(rejected.first?.data == ["user_id": "176", "user_gift_id": "g-6", "reason": "daily_limit", "retry_after": 85_801])
        try await h.waitUntilIdle()
        #expect(try await state(h, "g-6")["state"] == "rejected")
        #expect(try await h.jobs.find(id: "gift.expire:g-6", queue: "default") == nil)
        // Re-delivered: no second event.
        try await grant(h, gift: "g-6", expiresAt: Self.noon.addingTimeInterval(87_000))
        try await h.waitUntilIdle()
        #expect(try await h.events("gift.rejected").count == 1)
        #expect(try await h.jobs.info(queue: "default").scheduled == 1)
        worker.signal(SIGTERM)
        #expect(await worker.wait(timeout: .seconds(30)) == 0, "\(worker.output)")
    }

    /// The reason is written with the `rejected` state: a run that failed after the state (here, at the event) leaves the
    /// next run the reason and `retry_after` to announce, never a bare rejection.
    @Test("a rejection whose event failed is announced by the next run with its reason and retry_after")
    func rejectionAnnouncedAfterAFailedEvent() async throws {
        let h = try await DomainHarness()
        let services = try h.services()
        try await h.setClock(Self.noon)
        let first = GiftGrantedJob.Payload(userID: "176", userGiftID: "g-r1", expiresAt: Self.noon.addingTimeInterval(86_400).timeIntervalSince1970)
        #expect(try await h.failure(of: GiftGrantedJob(services: services), first) == nil)
        try await h.setClock(Self.noon.addingTimeInterval(600))
        let events = services.key("events")
        try await h.redis.send("SET", events, "not a stream")
        let second = GiftGrantedJob.Payload(userID: "176", userGiftID: "g-r2", expiresAt: Self.noon.addingTimeInterval(87_000).timeIntervalSince1970)
        await #expect(throws: (any Error).self) { try await h.failure(of: GiftGrantedJob(services: services), second) }
        #expect(try await state(h, "g-r2")["state"] == "rejected")
        #expect(try await state(h, "g-r2")["reason"] == "daily_limit")
        try await h.redis.send("DEL", events)
        #expect(try await h.failure(of: GiftGrantedJob(services: services), second) == nil)
        let rejected = try await h.events("gift.rejected")
        #expect(rejected.map(\.data) == [["user_id": "176", "user_gift_id": "g-r2", "reason": "daily_limit", "retry_after": 85_801]])
    }

    /// A grant run late (a backlog, workers down) counted its gift when it ran: the next day's legitimate spin, a day
    /// after the win but not after the late grant, was refused. With `won_at` (the panel's `created`) it counts then.
    @Test("a gift granted two hours late counts at its won_at: the next day's spin is not refused")
    func aLateGrantCountsAtItsWin() async throws {
        let h = try await DomainHarness()
        let services = try h.services()
        let won = Self.noon
        try await h.setClock(won.addingTimeInterval(2 * 3600))
        let first = GiftGrantedJob.Payload(
            userID: "176", userGiftID: "g-w1", expiresAt: won.addingTimeInterval(86_400).timeIntervalSince1970, wonAt: won.timeIntervalSince1970)
        #expect(try await h.failure(of: GiftGrantedJob(services: services), first) == nil)
        let nextDay = won.addingTimeInterval(86_400 + 60)
        try await h.setClock(nextDay)
        let second = GiftGrantedJob.Payload(
            userID: "176", userGiftID: "g-w2", expiresAt: nextDay.addingTimeInterval(86_400).timeIntervalSince1970, wonAt: nextDay.timeIntervalSince1970)
        #expect(try await h.failure(of: GiftGrantedJob(services: services), second) == nil)
        #expect(try await h.events("gift.rejected").isEmpty)
        #expect(try await state(h, "g-w2")["state"] == "granted")
        // A won_at not a time is refused with the reason.
        let bad = GiftGrantedJob.Payload(userID: "176", userGiftID: "g-w3", expiresAt: nextDay.timeIntervalSince1970, wonAt: -1)
        guard case .permanent = try await h.failure(of: GiftGrantedJob(services: services), bad)?.disposition else {
            Issue.record("a won_at of -1 was not refused"); return
        }
    }

    /// The panel's records hold gifts `created` a moment after their `expired_at` (seed 001's gift list: created
    /// 1593096287, expired_at 1593096178). Refused, such a gift was never counted against the day's limit and never
    /// announced expired; it counts at its expiry, and expires.
    @Test("a gift won after its expiry (the panel's own data) is counted at its expiry and expires")
    func aGiftWonAfterItsExpiryCountsAndExpires() async throws {
        let h = try await DomainHarness()
        let services = try h.services()
        let expires = Self.noon.addingTimeInterval(-300)
        try await h.setClock(Self.noon)
        let late = GiftGrantedJob.Payload(userID: "177", userGiftID: "g-x1", expiresAt: expires.timeIntervalSince1970, wonAt: expires.timeIntervalSince1970 + 109)
        #expect(try await h.failure(of: GiftGrantedJob(services: services), late) == nil)
        let verdict = try await GiftWheel(services: services).check(userID: "177", now: Self.noon)
        #expect(verdict.kind == .dailyLimit, "counted: \(verdict)")
        #expect(try await h.jobs.find(id: "gift.expire:g-x1", queue: "default") != nil, "its expiry is scheduled")
    }

    @Test("two gifts of one user, 25 h apart, each under its user_gift.id (24, 25): two expiries, two gift.expired")
    func twoGiftsOfOneUser() async throws {
        let h = try await DomainHarness()
        let services = try h.services()
        let first = Self.noon.addingTimeInterval(86_400), second = Self.noon.addingTimeInterval(49 * 3600)
        try await h.setClock(Self.noon)
        try await h.run(GiftGrantedJob(services: services), ["user_id": 176, "user_gift_id": 24, "expires_at": .integer(Int64(first.timeIntervalSince1970))])
        try await h.setClock(Self.noon.addingTimeInterval(25 * 3600))
        try await h.run(GiftGrantedJob(services: services), ["user_id": 176, "user_gift_id": 25, "expires_at": .integer(Int64(second.timeIntervalSince1970))])
        #expect(try await h.events("gift.rejected").isEmpty)
        #expect(try await h.jobs.find(id: "gift.expire:24", queue: "default") != nil)
        #expect(try await h.jobs.find(id: "gift.expire:25", queue: "default") != nil)
        // Each gift.expire, run at its own time, expires its own gift.
        try await h.run(GiftExpireJob(services: services), ["user_id": 176, "user_gift_id": 24, "expires_at": .integer(Int64(first.timeIntervalSince1970))])
        #expect(try await state(h, "25")["state"] == "granted")
        try await h.setClock(second.addingTimeInterval(301))  // its expiry and the grace
        try await h.run(GiftExpireJob(services: services), ["user_id": 176, "user_gift_id": 25, "expires_at": .integer(Int64(second.timeIntervalSince1970))])
        #expect(try await h.events("gift.expired").map { $0.data["user_gift_id"] } == ["24", "25"])
    }

    @Test("a second gift sent under the first one's id (the panel's uid, i.e. the user) is refused with the reason, not merged")
    func reusedGiftIDIsRefused() async throws {
        let h = try await DomainHarness()
        let services = try h.services()
        try await h.setClock(Self.noon)
        let first = Int64(Self.noon.addingTimeInterval(86_400).timeIntervalSince1970)
        try await h.run(GiftGrantedJob(services: services), ["user_id": 176, "user_gift_id": 176, "expires_at": .integer(first)])
        // Re-delivered as is: fine.
        try await h.run(GiftGrantedJob(services: services), ["user_id": 176, "user_gift_id": 176, "expires_at": .integer(first)])
        try await h.setClock(Self.noon.addingTimeInterval(25 * 3600))
        do {
            try await h.run(GiftGrantedJob(services: services), ["user_id": 176, "user_gift_id": 176, "expires_at": .integer(first + 25 * 3600)])
            Issue.record("a second gift under the same id was accepted")
        } catch let failure as JobFailure {
            #expect(failure.disposition == .permanent)
            #expect(failure.message.contains("user_gift.id"), "\(failure.message)")
        }
    }

    /// A gift record edited by hand with an `expires_at` no Int64 holds (`inf`, `1e19`) trapped the conversion in
    /// gift.granted's reused-id check: the worker process crashed (here, the test runner). A record that cannot be
    /// read is a permanent failure naming the field and the key.
    @Test("a granted gift whose stored expires_at was edited to inf, 1e19, -inf or nan: a permanent failure naming it, never a crash")
    func unreadableStoredExpiry() async throws {
        let h = try await DomainHarness()
        let services = try h.services()
        try await h.setClock(Self.noon)
        let expiresAt = Int64(Self.noon.addingTimeInterval(86_400).timeIntervalSince1970)
        for (index, stored) in ["inf", "1e19", "-inf", "nan"].enumerated() {
            let gift = "edited-\(index)"
            // A user each: the wheel's daily limit would refuse a second gift of one user.
            let payload: JSONValue = ["user_id": .integer(Int64(800 + index)), "user_gift_id": .string(gift), "expires_at": .integer(expiresAt)]
            try await h.run(GiftGrantedJob(services: services), payload)
            let key = GiftStore(services: services).key(DomainIdentifier(stringLiteral: gift))
            try await h.redis.send("HSET", key, "expires_at", stored)
            do {
                try await h.run(GiftGrantedJob(services: services), payload)
                Issue.record("a re-delivered grant over expires_at \(stored) succeeded")
            } catch let failure as JobFailure {
                #expect(failure.disposition == .permanent, "\(stored)")
                #expect(failure.message.contains("expires_at '\(stored)'") && failure.message.contains(key), "\(failure.message)")
            }
        }
    }

    /// The number `sms.send` checks, checked on arrival: a landline or a malformed mobile made the reminder die in
    /// `sms.send` hours later, unseen. It costs the reminder only: the gift is granted and its expiry scheduled.
    @Test("a phone sms.send would refuse costs only the reminder: the gift is granted, its expiry scheduled, no sms.send")
    func phoneSmsSendWouldRefuse() async throws {
        let h = try await DomainHarness()
        let services = try h.services()
        try await h.setClock(Self.noon)
        let expiresAt = Int64(Self.noon.addingTimeInterval(86_400).timeIntervalSince1970)
        for (index, phone) in ["02155554444", "+98 09351112222", "093511122"].enumerated() {
            let gift = "bad-phone-\(index)"
            // A user each: the wheel's daily limit would refuse a second gift of one user.
            try await h.run(GiftGrantedJob(services: services), ["user_id": .integer(Int64(900 + index)), "user_gift_id": .string(gift), "expires_at": .integer(expiresAt), "phone": .string(phone)])
            #expect(try await state(h, gift)["state"] == "granted", "\(phone)")
            let scheduled = try await SMSTest.scheduled(h).map(\.envelope)
            #expect(scheduled.contains { $0.id == "gift.expire:\(gift)" }, "its expiry is scheduled: \(phone)")
            #expect(!scheduled.contains { $0.id == "gift.reminder:\(gift)" }, "no reminder for \(phone)")
        }
        // A good number in either form still gets its reminder.
        try await h.run(GiftGrantedJob(services: services), ["user_id": 910, "user_gift_id": "good-phone", "expires_at": .integer(expiresAt), "phone": "+989121234567"])
        #expect(try await SMSTest.scheduled(h).contains { $0.envelope.id == "gift.reminder:good-phone" })
    }

    @Test("expires_at values that would overflow the scheduling (1e308, milliseconds) are refused, never a crash")
    func hugeExpiry() async throws {
        let h = try await DomainHarness()
        let services = try h.services()
        try await h.setClock(Self.noon)
        for value: JSONValue in [.double(1e308), .integer(1_593_269_124_000)] {
            for (handler, name) in [(0, "gift.granted"), (1, "gift.expire")] {
                do {
                    if handler == 0 {
                        try await h.run(GiftGrantedJob(services: services), ["user_id": 1, "user_gift_id": 9, "expires_at": value])
                    } else {
                        try await h.run(GiftExpireJob(services: services), ["user_id": 1, "user_gift_id": 9, "expires_at": value])
                    }
                    Issue.record("\(name) accepted \(value)")
                } catch let failure as JobFailure {
                    #expect(failure.disposition == .permanent && failure.message.contains("expires_at"))
                }
            }
        }
    }

    @Test("bad payloads go to the dead set with the reason")
    func badPayloads() async throws {
        let h = try await DomainHarness()
        let worker = try await h.startWorker()
        defer { worker.signal(SIGTERM) }
        try await h.enqueue(GiftGrantedJob.type, ["user_id": "1", "user_gift_id": "g"])
        try await h.enqueue(GiftGrantedJob.type, ["user_id": "1", "user_gift_id": "g", "expires_at": -3])
        try await h.enqueue(GiftUsedJob.type, ["user_id": "1", "user_gift_id": "a\"b"])
        try await h.enqueue(GiftExpireJob.type, ["user_gift_id": "g"])
        var dead: [JobEnvelope] = []
        #expect(try await eventually(timeout: .seconds(30)) {
            dead = try await h.dead()
            return dead.count == 4
        })
        let reasons = Dictionary(dead.map { ($0.type + ($0.payload["expires_at"] == nil ? "" : "+at"), ($0.deadReason ?? "") + " " + ($0.lastError ?? "")) }) { $0 + " | " + $1 }
        #expect(reasons["gift.granted"]?.contains("expires_at") == true)
        #expect(reasons["gift.granted+at"]?.contains("expires_at must be a Unix time") == true)
        #expect(reasons["gift.used"]?.contains("user_gift_id") == true)
        #expect(reasons["gift.expire"]?.contains("user_id") == true)
        // No domain event for bad input; the engine reports each dead job as job.dead (decision 0006).
        let events = try await h.events()
        #expect(events.filter { $0.type != "job.dead" }.isEmpty && events.count == dead.count)
        worker.signal(SIGTERM)
        #expect(await worker.wait(timeout: .seconds(30)) == 0, "\(worker.output)")
    }
}

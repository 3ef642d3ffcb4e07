import Foundation
import HoopoeCore
import HoopoeJSON
@testable import HoopoeJobs
import Redis
import Testing
import TestSupport

/// Reminders released just before quiet hours (default 22-08 Tehran). An SMS released at 21:59 ran at 22:00, was put off
/// to 08:00, past its `not_after` (the end of its day: "N days left" holds that day only), and ended `outdated`: the
/// user had no reminder for that offset, though one could go out at 08:00 with the days left then. The gift reminder
/// due at 21:55 was lost the same way.
@Suite("Reminders: released just before quiet hours", .serialized)
struct QuietHoursEdgeTests {
    func subscription(_ user: String, expires: String, email: String? = nil) -> JSONValue {
        var fields: [String: JSONValue] = [
            "user_id": .string(user), "phone": "09121234567", "first_name": "Sara", "expires_at": .string(expires), "receipt_id": "R-1",
        ]
        if let email { fields["email"] = .string(email) }
        return .object(fields)
    }

    /// The `sms.send` jobs released, with the domain time each is due at (real `run_at` moved by the clock's lead).
    private func released(
        _ harness: DomainHarness, domainNow: Date, type: String = SMSSendJob.type
    ) async throws -> [(payload: JSONValue, at: Date)] {
        try await harness.smsJobs().filter { $0.type == type }.map { job in
            let lead = (job.runAt ?? Date().timeIntervalSince1970) - Date().timeIntervalSince1970
            return (job.payload, domainNow.addingTimeInterval(lead))
        }
    }

    /// Runs `sms.send` on a released payload in this process, at domain time `at`.
    private func send(_ payload: JSONValue, at time: Date, _ harness: DomainHarness) async throws -> JobFailure? {
        try await harness.setClock(time)
        let decoded = try JSONDecoder().decode(SMSSendPayload.self, from: Data(payload.encoded()))
        return try await harness.failure(of: SMSSendJob(services: try harness.services()), decoded)
    }

    @Test("upserted at 21:59 on offset 3's day: the SMS and the email go at 08:00 with the days left then (2), once")
    func releasedJustBeforeQuietHours() async throws {
        var environment = reminderEnvironment
        environment["REMINDER_EMAIL_TEMPLATE_ID"] = "17"
        environment["REMINDER_EMAIL_QUEUE"] = reminderSMSQueue
        let harness = try await DomainHarness(environment: environment)
        let services = try harness.services()
        let release = tehran(2024, 12, 12, 21, 59)
        try await harness.setClock(release)
        try await harness.run(SubscriptionUpsertJob(services: services), subscription("q1", expires: "2024-12-15", email: "sara@example.com"))
        let sms = try #require(try await released(harness, domainNow: release).first)
        #expect(abs(sms.at.timeIntervalSince(tehran(2024, 12, 13, 8))) < 60, "due at 08:00 on the 13th, not at once")
        #expect(sms.payload["tokens"]?["token"] == "2", "the days left at 08:00 on the 13th")
        #expect(sms.payload["not_after"] == .integer(Int64(tehranDayEnd(2024, 12, 13).timeIntervalSince1970)))
        let email = try #require(try await released(harness, domainNow: release, type: EmailSendPayload.jobType).first)
        #expect(abs(email.at.timeIntervalSince(sms.at)) < 5, "the email goes with the SMS")
        #expect(email.payload["params"]?["days_left"] == "۲")
        #expect(try await harness.events("reminder.queued").map { $0.data["days_left"] } == [2, 2])

        // 08:00 on the 13th: it goes out.
        #expect(try await send(sms.payload, at: tehran(2024, 12, 13, 8), harness) == nil)
        #expect(try await harness.events("sms.sent").count == 1)
        #expect(try await harness.events("sms.failed").isEmpty)
        // The day's sweep sends nothing more: offset 3 went out, offset 1 is the 14th's.
        try await harness.setClock(tehran(2024, 12, 13, 9))
        try await harness.run(ExpirationReminderJob(services: services), ["tick": 1])
        #expect(try await harness.smsJobs().filter { $0.type == SMSSendJob.type }.count == 1)
        #expect(try await harness.events("reminder.skipped").isEmpty)
    }

    @Test("a renewal before 08:00 cancels the reminder put off to it")
    func renewalCancelsIt() async throws {
        let harness = try await DomainHarness(environment: reminderEnvironment)
        let services = try harness.services()
        try await harness.setClock(tehran(2024, 12, 12, 21, 50))
        try await harness.run(SubscriptionUpsertJob(services: services), subscription("q2", expires: "2024-12-15"))
        #expect(try await harness.smsJobs().count == 1)
        try await harness.setClock(tehran(2024, 12, 12, 23))
        try await harness.run(SubscriptionUpsertJob(services: services), subscription("q2", expires: "2025-01-15"))
        #expect(try await harness.smsJobs().isEmpty)
        #expect(try await harness.events("subscription.upserted").last?.data["cancelled_jobs"] == 1)
    }

    @Test("just before quiet hours on the eve of the next offset's day: superseded by it, which goes that morning; never both")
    func supersededByTheNextOffset() async throws {
        let harness = try await DomainHarness(environment: reminderEnvironment)
        let services = try harness.services()
        // The 14th is offset 1's day of the 15th; at 08:00 on the 15th offset 0's has begun.
        try await harness.setClock(tehran(2024, 12, 14, 21, 50))
        try await harness.run(SubscriptionUpsertJob(services: services), subscription("q3", expires: "2024-12-15"))
        #expect(try await harness.smsJobs().isEmpty)
        let skipped = try await harness.events("reminder.skipped")
        #expect(skipped.map { $0.data["offset"] } == [1] && skipped.map { $0.data["reason"] } == ["superseded"])
        try await harness.setClock(tehran(2024, 12, 15, 9))
        try await harness.run(ExpirationReminderJob(services: services), ["tick": 1])
        #expect(try await harness.smsJobs().map { $0.payload["tokens"]?["token"] } == ["0"])
    }

    @Test("an expiry timed before the next morning's sweep: the reminder put off to 08:00 goes then, not superseded by one released after the expiry")
    func notSupersededByOneThatComesTooLate() async throws {
        let harness = try await DomainHarness(environment: reminderEnvironment)
        let services = try harness.services()
        let release = tehran(2024, 12, 14, 21, 50)
        try await harness.setClock(release)
        try await harness.run(SubscriptionUpsertJob(services: services), subscription("q3t", expires: "2024-12-15 08:30"))
        #expect(try await harness.events("reminder.skipped").isEmpty)
        let jobs = try await released(harness, domainNow: release)
        #expect(jobs.count == 1 && jobs.first?.payload["tokens"]?["token"] == "0", "\(jobs.map(\.payload))")
        #expect(jobs.first.map { abs($0.at.timeIntervalSince(tehran(2024, 12, 15, 8))) < 60 } == true)
    }

    @Test("a sweep run at 21:50 (a catch-up): the day-of reminder goes at once (the expiry comes before 08:00), the others at 08:00")
    func sweepJustBeforeQuietHours() async throws {
        let harness = try await DomainHarness(environment: reminderEnvironment)
        let services = try harness.services()
        try await harness.setClock(tehran(2024, 11, 20, 12))
        try await harness.run(SubscriptionUpsertJob(services: services), subscription("today", expires: "2024-12-01"))
        try await harness.run(SubscriptionUpsertJob(services: services), subscription("later", expires: "2024-12-11"))
        let sweepTime = tehran(2024, 12, 1, 21, 50)
        try await harness.setClock(sweepTime)
        try await harness.run(ExpirationReminderJob(services: services), ["tick": 1])
        let jobs = try await released(harness, domainNow: sweepTime)
        let today = try #require(jobs.first { $0.payload["user_id"] == "today" })
        #expect(today.payload["tokens"]?["token"] == "0")
        #expect(abs(today.at.timeIntervalSince(sweepTime)) < 60, "at once: after quiet hours it would be past the expiry")
        let later = try #require(jobs.first { $0.payload["user_id"] == "later" })
        #expect(later.payload["tokens"]?["token"] == "9", "offset 10 of the 11th, with the days left on the 2nd")
        #expect(abs(later.at.timeIntervalSince(tehran(2024, 12, 2, 8))) < 60)
        // A release at 21:44, before the margin, goes at once as it is.
        try await harness.setClock(tehran(2024, 11, 20, 12))
        try await harness.run(SubscriptionUpsertJob(services: services), subscription("early", expires: "2024-12-11"))
        let early = tehran(2024, 12, 1, 21, 44)
        try await harness.setClock(early)
        try await harness.run(ExpirationReminderJob(services: services), ["tick": 2])
        let first = try #require(try await released(harness, domainNow: early).first { $0.payload["user_id"] == "early" })
        #expect(first.payload["tokens"]?["token"] == "10")
        #expect(abs(first.at.timeIntervalSince(early)) < 60)
    }

    @Test("quiet hours that end the same day (13-15): a release at 12:50 goes at once; sms.send puts it off to 15:00 within its day")
    func daytimeQuietHours() async throws {
        var environment = reminderEnvironment
        environment["SMS_QUIET_HOURS"] = "13-15"
        let harness = try await DomainHarness(environment: environment)
        let services = try harness.services()
        let release = tehran(2024, 12, 12, 12, 50)
        try await harness.setClock(release)
        try await harness.run(SubscriptionUpsertJob(services: services), subscription("q4", expires: "2024-12-15"))
        let sms = try #require(try await released(harness, domainNow: release).first)
        #expect(sms.payload["tokens"]?["token"] == "3")
        #expect(abs(sms.at.timeIntervalSince(release)) < 60)
        let failure = try await send(sms.payload, at: tehran(2024, 12, 12, 13, 1), harness)
        #expect(failure?.deferredTo != nil, "deferred to 15:00, not outdated: \(String(describing: failure))")
        #expect(try await harness.events("sms.failed").isEmpty)
    }

    /// Due at 21:55 for a gift valid until 00:55: a run 7 minutes late (one failed attempt, a backlog) was at 22:02,
    /// put off to 08:00 past its `not_after` (22:55): `outdated`, no reminder. Planned at 21:45 it has the margin.
    @Test("a gift reminder due at 21:55 goes at 21:45, and still goes out when it runs 7 minutes late")
    func giftReminderJustBeforeQuietHours() async throws {
        let harness = try await DomainHarness()
        let services = try harness.services()
        let noon = tehran(2024, 12, 3, 12)
        try await harness.setClock(noon)
        let scheduled = try await GiftFollowUps(services: services).scheduleReminder(
            user: "176", gift: "g-q", phone: "09121234567", serviceName: "لایک", expiresAt: tehran(2024, 12, 4, 0, 55), now: noon, queue: "default")
        #expect(scheduled != nil)
        let job = try #require(try await harness.jobs.find(id: GiftFollowUps.reminderJobID("g-q"), queue: "default")).envelope
        let notAfter = try #require(job.payload["not_after"]?.doubleValue)
        let sendAt = Date(timeIntervalSince1970: notAfter - 3600)
        #expect(sendAt == tehran(2024, 12, 3, 21, 45))
        #expect(job.payload["tokens"]?["token"] == "3")
        #expect(try await send(job.payload, at: sendAt.addingTimeInterval(7 * 60), harness) == nil)
        #expect(try await harness.events("sms.sent").count == 1)
        #expect(try await harness.events("sms.failed").isEmpty)
    }

    /// Its `not_after` is a day after the firing, and quiet hours hold at most 23 hours: they never outdate it alone.
    @Test("a low-credit SMS fired just before quiet hours waits for their end, even for 23-hour quiet hours; never outdated by them")
    func lowCreditJustBeforeQuietHours() async throws {
        for (setting, fired, end) in [
            ("22-08", tehran(2024, 12, 3, 21, 59), tehran(2024, 12, 4, 8)), ("09-08", tehran(2024, 12, 3, 8, 59), tehran(2024, 12, 4, 8)),
        ] {
            var environment = reminderEnvironment
            environment["SMS_QUIET_HOURS"] = setting
            let harness = try await DomainHarness("lowCreditJustBeforeQuietHours-\(setting)", environment: environment)
            let payload = SMSSendPayload(
                messageID: "reminder.low_credit:u1:t1:1", phone: "09121234567", template: "low_credit",
                tokens: ["token10": "Sara", "token": "90", "token2": "100"], userID: "u1", purpose: "reminder.low_credit",
                notAfter: fired.timeIntervalSince1970 + LowCreditReminderJob.smsValidFor)
            let json = try #require(JSONValue.parse(Array(try JSONEncoder().encode(payload))))
            let failure = try await send(json, at: fired.addingTimeInterval(90), harness)
            #expect(failure?.deferredTo != nil, "\(setting): \(String(describing: failure))")
            #expect(try await harness.events("sms.failed").isEmpty)
            #expect(try await send(json, at: end, harness) == nil, "\(setting): sent when quiet hours end")
        }
    }

    /// Its evening time (21:45, for a gift expiring at 02:00) had passed, so none was planned, though nothing kept a
    /// reminder from going out at 21:50.
    @Test("a gift granted at 21:50, after its evening reminder time, before quiet hours: the reminder goes at once, saying 4 hours")
    func giftGrantedJustBeforeQuietHours() async throws {
        let harness = try await DomainHarness()
        let services = try harness.services()
        let now = tehran(2024, 12, 3, 21, 50)
        try await harness.setClock(now)
        let scheduled = try await GiftFollowUps(services: services).scheduleReminder(
            user: "176", gift: "g-e", phone: "09121234567", serviceName: nil, expiresAt: tehran(2024, 12, 4, 2), now: now, queue: "default")
        #expect(scheduled != nil)
        let job = try #require(try await harness.jobs.find(id: GiftFollowUps.reminderJobID("g-e"), queue: "default")).envelope
        #expect(job.payload["tokens"]?["token"] == "4")
        #expect(try await send(job.payload, at: now, harness) == nil)
        #expect(try await harness.events("sms.sent").count == 1)
    }
}

import Foundation
import HoopoeCore
import HoopoeJSON
import HoopoeJobs
import ProviderFakes
import Providers
import Redis
import Testing
import TestSupport

/// Expiration reminder emails (Brevo transactional email beside the SMS) and `email.send`'s at-most-once delivery
/// when an answer is lost.
@Suite("Email: expiration reminder emails and email.send", .serialized)
struct EmailSendTests {
    static let emailQueue = "reminder-email"
    static let environment = reminderEnvironment.merging(["REMINDER_EMAIL_TEMPLATE_ID": "17", "REMINDER_EMAIL_QUEUE": emailQueue]) { $1 }

    func subscription(_ user: String, email: String?) -> JSONValue {
        var payload: [String: JSONValue] = ["user_id": .string(user), "phone": "09121234567", "first_name": "سارا", "plan": "gold",
                                            "expires_at": "1403-09-25", "receipt_id": "R-1"]
        if let email { payload["email"] = .string(email) }
        return .object(payload)
    }

    func payload(_ messageID: String = "reminder.expiration.email:42:1734294599:10", template: Int64 = 17) -> JSONValue {
        ["message_id": .string(messageID), "email": "sara@example.com", "name": "سارا", "template_id": .integer(template),
         "params": ["days_left_text": "۱۰ روز دیگر", "receipt_url": "https://kamva.ir/email/receipt/R-1"],
         "user_id": "42", "purpose": "reminder.expiration"]
    }

    /// The emails Brevo (the fake) accepted with this tag, read back through its events report.
    func accepted(_ h: DomainHarness, tag: String) async throws -> [BrevoEmailEvent] {
        let brevo = try #require(try h.services().providers.brevo)
        return try await brevo.emailEvents(tag: tag, email: "sara@example.com", days: 1).value
    }

    func ledger(_ h: DomainHarness, _ messageID: String) -> String { "\(h.namespace):{email}:msg:\(messageID)" }

    @Test("each released reminder also goes out as an email.send on the same offset, once; the email reaches Brevo with the template, Persian params and the receipt link")
    func reminderEmails() async throws {
        let h = try await DomainHarness(environment: Self.environment)
        let services = try h.services()
        try await h.setClock(tehran(2024, 12, 4, 20))
        try await h.run(SubscriptionUpsertJob(services: services), subscription("42", email: "sara@example.com"))
        try await h.run(SubscriptionUpsertJob(services: services), subscription("43", email: nil))
        try await h.setClock(tehran(2024, 12, 5, 9))
        let sweep = ExpirationReminderJob(services: services)
        try await h.run(sweep, ["tick": 1])
        try await h.run(sweep, ["tick": 2])
        #expect(try await h.smsJobs().count == 2, "an SMS for each subscription")
        let emails = try await h.smsJobs(queue: Self.emailQueue)
        #expect(emails.count == 1, "an email only for the subscription with an address, once")
        let job = try #require(emails.first)
        #expect(job.type == "email.send")
        let expires = Int64(tehranDayEnd(2024, 12, 15).timeIntervalSince1970)
        let id = "reminder.expiration.email:42:\(expires):10"
        #expect(job.payload["message_id"]?.stringValue == id)
        #expect(job.payload["template_id"] == 17)
        #expect(job.payload["params"] == ["first_name": "سارا", "days_left": "۱۰", "days_left_text": "۱۰ روز دیگر",
                                         "expiry_date": "۱۴۰۳/۰۹/۲۵", "receipt_url": "https://kamva.ir/email/receipt/R-1", "plan": "gold"])
        // Its «۱۰ روز دیگر» holds on the release's day only, as the SMS beside it: the same not_after.
        let smsNotAfter = try await h.smsJobs().first { $0.payload["user_id"] == "42" }?.payload["not_after"]?.doubleValue
        #expect(job.payload["not_after"]?.doubleValue == tehranDayEnd(2024, 12, 5).timeIntervalSince1970)
        #expect(smsNotAfter == job.payload["not_after"]?.doubleValue)
        let queued = try await h.events("reminder.queued").filter { $0.data["user_id"] == "42" }
        #expect(Set(queued.compactMap { $0.data["channel"]?.stringValue }) == ["sms", "email"])

        let send = try JSONDecoder().decode(EmailSendPayload.self, from: Data(job.payload.encoded()))
        try await h.run(EmailSendJob(services: services), job.payload)
        try await h.run(EmailSendJob(services: services), job.payload)  // a re-delivery
        let posts = await h.control.requests(to: .brevoSendEmail)
        #expect(posts.count == 1)
        let post = try #require(posts.first)
        let body = try #require(JSONValue.parse(post.body))
        #expect(body["templateId"] == 17 && body["tags"] == [.string(send.messageID)])
        #expect(body["params"]?["receipt_url"] == "https://kamva.ir/email/receipt/R-1")
        let sent = try await h.events("email.sent")
        #expect(sent.count == 1)
        #expect(sent.first?.data["message_id"]?.stringValue == id && sent.first?.data["reconciled"] == false)
        let everything = try await h.events().map { String(decoding: $0.data.encoded(), as: UTF8.self) }.joined()
        #expect(!everything.contains("sara@example.com"), "no address in the events")
        // A renewal cancels the waiting email with the SMS.
        try await h.run(SubscriptionUpsertJob(services: services), ["user_id": "42", "phone": "09121234567", "first_name": "سارا",
                                                                   "expires_at": "2025-02-01", "receipt_id": "R-2", "email": "sara@example.com"])
        #expect(try await h.smsJobs(queue: Self.emailQueue).isEmpty)
    }

    @Test("through a real worker: the reminder SMS reaches the fake Kavenegar and its email the fake Brevo, once each")
    func throughAWorker() async throws {
        let h = try await DomainHarness(environment: reminderEnvironment.merging([
            "REMINDER_SMS_QUEUE": "default", "REMINDER_EMAIL_QUEUE": "default", "REMINDER_EMAIL_TEMPLATE_ID": "17"]) { $1 })
        try await h.setClock(tehran(2024, 12, 4, 20))
        let worker = try await h.startWorker()
        try await h.enqueue("subscription.upsert", ["user_id": 42, "phone": "09121234567", "first_name": "سارا",
                                                    "expires_at": "1403-09-25", "receipt_id": "R77", "email": "sara@example.com"])
        try await h.waitUntilIdle()
        try await h.setClock(tehran(2024, 12, 5, 9))
        try await h.enqueue("reminders.expiration", ["tick": 1])
        try await h.enqueue("reminders.expiration", ["tick": 2])
        _ = try await h.waitForEvents("sms.sent", timeout: .seconds(60))
        let sent = try await h.waitForEvents("email.sent", timeout: .seconds(60))
        try await h.waitUntilIdle()
        worker.signal(SIGTERM)
        _ = await worker.wait(timeout: .seconds(30))
        #expect(sent.count == 1 && sent.first?.data["user_id"] == "42")
        let posts = await h.control.requests(to: .brevoSendEmail)
        #expect(posts.count == 1)
        let body = JSONValue.parse(posts.first?.body ?? [])
        #expect(body?["params"]?["days_left_text"] == "۱۰ روز دیگر")
        #expect(body?["params"]?["receipt_url"] == "https://kamva.ir/email/receipt/R77")
        #expect(await h.control.requests(to: .kavenegarLookup).count == 1)
        #expect(try await h.dead().isEmpty)
    }

    /// The reminder email's days_left_text («فردا», "tomorrow") is fixed when it is released, and email.send retried it
    /// for the engine's 25 attempts (about three weeks): it could arrive days late, after the expiry.
    @Test("an email run after its not_after is not sent: email.failed (outdated), discarded, nothing kept; a lost answer is looked up first")
    func anOutdatedEmailIsNotSent() async throws {
        let h = try await DomainHarness(environment: Self.environment)
        let services = try h.services()
        let notAfter = tehranDayEnd(2024, 12, 5).timeIntervalSince1970
        func outdated(_ id: String) -> JSONValue {
            .object((payload(id).objectValueForTest ?? [:]).merging(["not_after": .double(notAfter)]) { $1 })
        }
        try await h.setClock(tehran(2024, 12, 6, 10))
        func decoded(_ id: String) throws -> EmailSendPayload {
            try JSONDecoder().decode(EmailSendPayload.self, from: Data(outdated(id).encoded()))
        }
        let late = try await h.failure(of: EmailSendJob(services: services), try decoded("late"))
        #expect(late?.disposition == .discard, "\(String(describing: late))")
        #expect(await h.control.requests(to: .brevoSendEmail).isEmpty, "not sent the day after")
        var failed = try await h.events("email.failed")
        #expect(failed.count == 1 && failed.first?.data["message_id"] == "late")
        #expect(failed.first?.data["reason"]?.stringValue?.hasPrefix("outdated: its not_after (1403/09/15 23:59) has passed") == true,
                "\(failed.map(\.data))")
        #expect(try await h.redis.send("EXISTS", ledger(h, "late")).int == 0)

        // Sent the evening before, its answer lost: found in Brevo's events, so called sent, not outdated.
        try await h.setClock(tehran(2024, 12, 5, 21))
        await h.control.enqueue(.succeedThenDrop, for: .brevoSendEmail)
        await #expect(throws: JobFailure.self) { try await h.run(EmailSendJob(services: services), outdated("went")) }
        // Tried before midnight, lost before Brevo took it (503): nothing to find, so outdated, and not sent again.
        await h.control.enqueue(.brevo(httpStatus: 503, code: "service_unavailable"), for: .brevoSendEmail)
        await #expect(throws: JobFailure.self) { try await h.run(EmailSendJob(services: services), outdated("lost")) }
        try await h.setClock(tehran(2024, 12, 6, 10))
        for id in ["went", "lost"] {
            try await h.redis.send("HSET", ledger(h, id), "first_try", String(Date().timeIntervalSince1970 - 20 * 60))
        }
        try await h.run(EmailSendJob(services: services), outdated("went"))
        let lost = try await h.failure(of: EmailSendJob(services: services), try decoded("lost"))
        #expect(lost?.disposition == .discard)
        #expect(await h.control.requests(to: .brevoSendEmail).count == 2, "neither sent again")
        #expect(await h.control.requests(to: .brevoEmailEvents).count == 2)
        let sent = try await h.events("email.sent")
        #expect(sent.count == 1 && sent.first?.data["message_id"] == "went" && sent.first?.data["reconciled"] == true)
        failed = try await h.events("email.failed")
        #expect(failed.compactMap { $0.data["message_id"]?.stringValue } == ["late", "lost"])
        // A not_after that is no time is refused as any payload that can never be sent.
        let bad = try JSONDecoder().decode(EmailSendPayload.self, from: Data(JSONValue.object(
            (payload("bad").objectValueForTest ?? [:]).merging(["not_after": .double(-1)]) { $1 }).encoded()))
        #expect(try await h.failure(of: EmailSendJob(services: services), bad)?.disposition == .permanent)
    }

    @Test("off without REMINDER_EMAIL_TEMPLATE_ID: no email.send even with an address")
    func offWithoutTemplate() async throws {
        let h = try await DomainHarness(environment: reminderEnvironment.merging(["REMINDER_EMAIL_QUEUE": Self.emailQueue]) { $1 })
        let services = try h.services()
        try await h.setClock(tehran(2024, 12, 4, 20))
        try await h.run(SubscriptionUpsertJob(services: services), subscription("42", email: "sara@example.com"))
        try await h.setClock(tehran(2024, 12, 5, 9))
        try await h.run(ExpirationReminderJob(services: services), ["tick": 1])
        #expect(try await h.smsJobs().count == 1)
        #expect(try await h.smsJobs(queue: Self.emailQueue).isEmpty)
    }

    @Test("answer lost, retried within the key's window: sent again with the same idempotency key, Brevo refuses it (duplicate_parameter), recorded as sent, not failed")
    func lostAnswerInsideTheWindow() async throws {
        let h = try await DomainHarness(environment: Self.environment)
        let services = try h.services()
        await h.control.enqueue(.succeedThenDrop, for: .brevoSendEmail)
        await #expect(throws: JobFailure.self) { try await h.run(EmailSendJob(services: services), payload()) }
        try await h.run(EmailSendJob(services: services), payload())
        let posts = await h.control.requests(to: .brevoSendEmail)
        #expect(posts.count == 2)
        let keys = posts.compactMap { JSONValue.parse($0.body)?["headers"]?["idempotencyKey"]?.stringValue }
        #expect(keys.count == 2 && keys[0] == keys[1])
        #expect(keys.first.flatMap(UUID.init(uuidString:)) != nil, "Brevo's guide: the idempotencyKey must be a UUID")
        #expect(try await accepted(h, tag: "reminder.expiration.email:42:1734294599:10").count == 1)
        #expect(await h.control.brevoEmailCount() == 1)
        let sent = try await h.events("email.sent")
        #expect(sent.count == 1 && sent.first?.data["reconciled"] == true)
        #expect(sent.first?.data["brevo_message_id"]?.stringValue?.hasSuffix("@smtp-relay.mailin.fr>") == true, "the id from the events report")
        #expect(try await h.events("email.failed").isEmpty, "the email went out: no email.failed")
    }

    /// `job.dead` names only the job: a caller waiting on the message id heard nothing when Brevo's 401/402/403 or
    /// 5xx outlasted the attempts.
    @Test("a retry on the last attempt ends the email with email.failed by its message id; earlier attempts do not")
    func lastAttemptAnnouncesTheFailure() async throws {
        let h = try await DomainHarness(environment: Self.environment)
        let services = try h.services()
        let id = "mail-last-attempt"
        let message = try JSONDecoder().decode(EmailSendPayload.self, from: JSONEncoder().encode(payload(id)))
        for attempt in 1...2 {
            await h.control.enqueue(.brevo(httpStatus: 500, code: "internal_error", message: "boom"), for: .brevoSendEmail)
            let failure = try await h.failure(of: EmailSendJob(services: services), message, id: "job-1", attempt: attempt, maxAttempts: 2)
            guard case .retry? = failure?.disposition else { Issue.record("attempt \(attempt): \(String(describing: failure))"); return }
            #expect(try await h.events("email.failed").count == attempt - 1)
        }
        let failed = try #require(try await h.events("email.failed").first)
        #expect(failed.data["message_id"] == .string(id))
        #expect(failed.data["reason"]?.stringValue?.hasPrefix("gave up after 2 attempts:") == true)
        #expect(try await h.events("email.sent").isEmpty)
    }

    @Test("Brevo refuses the key (duplicate_parameter) but its events do not list the email: not recorded as sent; retried after the key's 30 minutes")
    func refusedKeyWithoutATraceIsNotCalledSent() async throws {
        let h = try await DomainHarness(environment: Self.environment)
        let services = try h.services()
        let id = "reminder.expiration.email:42:1734294599:1"
        await h.control.enqueue(.brevo(httpStatus: 400, code: "duplicate_parameter", message: "idempotencyKey was already used"), for: .brevoSendEmail)
        let before = Date().timeIntervalSince1970
        var retryAt: Double?
        do {
            try await h.run(EmailSendJob(services: services), payload(id))
        } catch let failure as JobFailure {
            if case .retry(let at) = failure.disposition { retryAt = at }
        }
        #expect(retryAt.map { $0 >= before + 30 * 60 } == true, "retried once the key has expired: \(String(describing: retryAt))")
        #expect(try await h.events("email.sent").isEmpty)
        #expect(try await h.events("email.failed").isEmpty)
        #expect(try await h.redis.send("HGET", ledger(h, id), "state").string == "sending")
    }

    @Test("answer lost, retried after the window: found in Brevo's events by its tag, recorded as sent, not sent again")
    func lostAnswerAfterTheWindow() async throws {
        let h = try await DomainHarness(environment: Self.environment)
        let services = try h.services()
        let id = "reminder.expiration.email:42:1734294599:10"
        await h.control.enqueue(.succeedThenDrop, for: .brevoSendEmail)
        await #expect(throws: JobFailure.self) { try await h.run(EmailSendJob(services: services), payload(id)) }
        try await h.redis.send("HSET", ledger(h, id), "first_try", String(Date().timeIntervalSince1970 - 20 * 60))
        try await h.run(EmailSendJob(services: services), payload(id))
        #expect(await h.control.requests(to: .brevoSendEmail).count == 1, "no second POST")
        #expect(await h.control.requests(to: .brevoEmailEvents).count == 1)
        let sent = try await h.events("email.sent")
        #expect(sent.count == 1 && sent.first?.data["reconciled"] == true)
        #expect(try await accepted(h, tag: id).count == 1)
    }

    @Test("answer lost at 23:00, looked up after midnight: Brevo's days count today too, so yesterday's send is found, not sent again")
    func lostAnswerLookedUpTheNextDay() async throws {
        let h = try await DomainHarness(environment: Self.environment)
        let services = try h.services()
        let id = "reminder.expiration.email:42:1734294599:3"
        await h.control.enqueue(.succeedThenDrop, for: .brevoSendEmail)
        await #expect(throws: JobFailure.self) { try await h.run(EmailSendJob(services: services), payload(id)) }
        // The first try and Brevo's acceptance: yesterday (UTC) at 23:59, under a day ago (23:00 was over a day ago
        // after 23:00: the test failed an hour a day). In today's first quarter hour, a quarter hour ago instead (still
        // yesterday): 23:59 would be inside the 13-minute idempotency window, and the job would send with the key again.
        let now = Date().timeIntervalSince1970
        let midnight = (now / 86_400).rounded(.down) * 86_400
        let first = min(midnight - 60, now - 15 * 60)
        await h.control.dateBrevoEmails(Date(timeIntervalSince1970: first))
        try await h.redis.send("HSET", ledger(h, id), "first_try", String(first))
        let ranFrom = Date().timeIntervalSince1970
        try await h.run(EmailSendJob(services: services), payload(id))
        let ranTo = Date().timeIntervalSince1970
        #expect(await h.control.requests(to: .brevoSendEmail).count == 1, "no second POST")
        let asked = await h.control.requests(to: .brevoEmailEvents).first?.target ?? ""
        let days = asked.firstMatch(of: /[?&]days=(\d+)/).flatMap { Int($0.1) }
        // Expected from the clock the job read: email.send reads the real time (Date(), not the domain clock, so no
        // clock key moves it), some instant between ranFrom and ranTo. Brevo's days count today too: the whole days
        // since the first try, rounded up, plus one — 2 all day, 3 in the UTC day's last minute (23:59 yesterday is then
        // over a day ago).
        let expected = Set([ranFrom, ranTo].map { Int((($0 - first) / 86_400).rounded(.up)) + 1 })
        #expect(days.map(expected.contains) == true, "asked \(asked), want days in \(expected.sorted())")
        // Whatever the hour, yesterday's send is inside what was asked: today and at least the day before (days=1,
        // today alone, missed it and the email went out twice).
        let calendarDays = Int((ranTo / 86_400).rounded(.down) - (first / 86_400).rounded(.down)) + 1
        #expect((days ?? 0) >= max(2, calendarDays), "asked \(asked): the first try was \(calendarDays) UTC days back, today included")
        let sent = try await h.events("email.sent")
        #expect(sent.count == 1 && sent.first?.data["reconciled"] == true)
    }

    @Test("sent, then the event could not be written: the next run emits email.sent and sends nothing")
    func aLostEventIsEmittedByTheNextRun() async throws {
        let h = try await DomainHarness(environment: Self.environment)
        let services = try h.services()
        let id = "reminder.expiration.email:42:1734294599:0"
        let events = "\(h.namespace):events"
        try await h.redis.send("DEL", events)
        try await h.redis.send("SET", events, "not a stream")  // the append fails (WRONGTYPE) after Brevo's 201
        await #expect(throws: (any Error).self) { try await h.run(EmailSendJob(services: services), payload(id)) }
        #expect(await h.control.brevoEmailCount() == 1)
        try await h.redis.send("DEL", events)
        try await h.run(EmailSendJob(services: services), payload(id))
        #expect(await h.control.requests(to: .brevoSendEmail).count == 1, "not sent again")
        let sent = try await h.events("email.sent")
        #expect(sent.count == 1 && sent.first?.data["message_id"]?.stringValue == id, "\(sent)")
        #expect(sent.first?.data["brevo_message_id"]?.stringValue?.hasSuffix("@smtp-relay.mailin.fr>") == true)
        try await h.run(EmailSendJob(services: services), payload(id))
        #expect(try await h.events("email.sent").count == 1, "announced once")
    }

    @Test("lost before Brevo took it (503), retried after the window: no trace in the events, so it is sent once")
    func lostRequestAfterTheWindow() async throws {
        let h = try await DomainHarness(environment: Self.environment)
        let services = try h.services()
        let id = "reminder.expiration.email:42:1734294599:3"
        await h.control.enqueue(.brevo(httpStatus: 503, code: "service_unavailable"), for: .brevoSendEmail)
        await #expect(throws: JobFailure.self) { try await h.run(EmailSendJob(services: services), payload(id)) }
        try await h.redis.send("HSET", ledger(h, id), "first_try", String(Date().timeIntervalSince1970 - 20 * 60))
        try await h.run(EmailSendJob(services: services), payload(id))
        #expect(await h.control.requests(to: .brevoSendEmail).count == 2)
        #expect(try await accepted(h, tag: id).count == 1)
        #expect(try await h.events("email.sent").first?.data["reconciled"] == false)
    }

    @Test("429: retried at x-sib-ratelimit-reset; an unknown template: dead with email.failed and the record cleared")
    func rateLimitAndBadTemplate() async throws {
        let h = try await DomainHarness(environment: Self.environment)
        let services = try h.services()
        await h.control.setBrevoEmailRateLimit(limit: 100, remaining: 0, reset: 600)
        do {
            try await h.run(EmailSendJob(services: services), payload())
            Issue.record("a 429 passed")
        } catch let failure as JobFailure {
            guard case .retry(let at?) = failure.disposition else { Issue.record("\(failure.disposition)"); return }
            #expect(abs(at - Date().timeIntervalSince1970 - 600) < 30)
        }
        await h.control.setBrevoEmailRateLimit(limit: 100, remaining: 100, reset: 3600)
        let id = "reminder.expiration.email:42:1734294599:1"
        do {
            try await h.run(EmailSendJob(services: services), payload(id, template: 5000))
            Issue.record("an unknown template passed")
        } catch let failure as JobFailure {
            #expect(failure.disposition == .permanent)
        }
        #expect(try await h.events("email.failed").first?.data["message_id"]?.stringValue == id)
        #expect(try await h.redis.send("EXISTS", ledger(h, id)).int == 0)
        // A payload that can never be sent fails before any request.
        var bad = payload("x")
        bad = .object((bad.objectValueForTest ?? [:]).merging(["email": "not an address"]) { $1 })
        await #expect(throws: JobFailure.self) { try await h.run(EmailSendJob(services: services), bad) }
    }
}

extension JSONValue {
    var objectValueForTest: [String: JSONValue]? {
        if case .object(let members) = self { return members }
        return nil
    }
}

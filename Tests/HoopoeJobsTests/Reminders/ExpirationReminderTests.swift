import Foundation
import HoopoeCore
import HoopoeJSON
@testable import HoopoeJobs
import ProviderFakes
import Redis
import Testing
import TestSupport

/// subscription.upsert / subscription.delete / reminders.expiration, called in this process against the test Redis.
@Suite("Reminders: expiration", .serialized)
struct ExpirationReminderTests {
    func subscription(_ user: String, expires: Any, receipt: String = "R-1", phone: String = "09121234567") -> JSONValue {
        let expiresValue: JSONValue = (expires as? String).map(JSONValue.string) ?? .integer(Int64(expires as! Int))
        return ["user_id": .string(user), "phone": .string(phone), "first_name": "Sara", "plan": 2,
                "expires_at": expiresValue, "receipt_id": .string(receipt)]
    }

    @Test("upsert schedules the offsets still ahead, the sweep on a reminder's day releases one sms.send with the tokens and a reminder.queued event")
    func happyPath() async throws {
        let harness = try await DomainHarness(environment: reminderEnvironment)
        let services = try harness.services()
        // 2024-12-01 10:00 Tehran; the plan ends 1403-09-25 = 2024-12-15: offsets 10 (Dec 5), 3, 1, 0 are all ahead.
        try await harness.setClock(tehran(2024, 12, 1, 10))
        try await harness.run(SubscriptionUpsertJob(services: services), subscription("42", expires: "1403-09-25"))
        let upserted = try await harness.events("subscription.upserted")
        #expect(upserted.count == 1)
        #expect(upserted.first?.data["outcome"] == "new")
        #expect(upserted.first?.data["scheduled_offsets"] == [10, 3, 1, 0])

        let sweep = ExpirationReminderJob(services: services)
        try await harness.run(sweep, ["tick": 1])
        #expect(try await harness.smsJobs().isEmpty, "nothing is due on Dec 1")

        try await harness.setClock(tehran(2024, 12, 5, 9))
        try await harness.run(sweep, ["tick": 2, "extra": "ignored"])
        let jobs = try await harness.smsJobs()
        #expect(jobs.count == 1)
        let sms = try #require(jobs.first)
        #expect(sms.type == "sms.send")
        let expires = Int64(tehranDayEnd(2024, 12, 15).timeIntervalSince1970)
        #expect(sms.payload["message_id"]?.stringValue == "reminder.expiration:42:\(expires):10")
        #expect(sms.payload["template"] == "expiration_reminder")
        #expect(sms.payload["purpose"] == "reminder.expiration")
        #expect(sms.payload["user_id"] == "42")
        #expect(sms.payload["phone"] == "09121234567")
        #expect(sms.payload["tokens"] == ["token10": "Sara", "token": "10", "token2": "1403/09/25",
                                           "token3": "https://kamva.ir/email/receipt/R-1"])
        let queued = try await harness.events("reminder.queued")
        #expect(queued.count == 1)
        #expect(queued.first?.data["kind"] == "expiration")
        #expect(queued.first?.data["offset"] == 10)
        #expect(queued.first?.data["expires_at"] == .integer(expires))
        #expect(queued.first?.data["message_id"] == sms.payload["message_id"])
        #expect(queued.first?.data["job_id"]?.stringValue == sms.id)

        // The same sweep again (a retry, a second scheduler tick) releases nothing more.
        try await harness.run(sweep, ["tick": 3])
        #expect(try await harness.smsJobs().count == 1)
        #expect(try await harness.events("reminder.queued").count == 1)
    }

    @Test("an upsert days into an offset's window sends that offset at once with the true days left, skips older ones; a late sweep sends only the nearest due offset")
    func pastAndSuperseded() async throws {
        let harness = try await DomainHarness(environment: reminderEnvironment)
        let services = try harness.services()
        // Dec 13 15:00, expiry Dec 15: offset 10 (Dec 5) is over, 3 (Dec 12) has begun: sent now with 2 days left;
        // 1 (Dec 14) and 0 (Dec 15) ahead.
        try await harness.setClock(tehran(2024, 12, 13, 15))
        try await harness.run(SubscriptionUpsertJob(services: services), subscription("7", expires: Int(tehran(2024, 12, 15, 18).timeIntervalSince1970)))
        let upserted = try #require(try await harness.events("subscription.upserted").first)
        #expect(upserted.data["scheduled_offsets"] == [1, 0])
        #expect(upserted.data["skipped_offsets"] == [10])
        #expect(upserted.data["late_offset"] == 3)
        let late = try await harness.smsJobs()
        #expect(late.map { $0.payload["tokens"]?["token"] } == ["2"])
        try await harness.redis.send("DEL", harness.jobs.keys(reminderSMSQueue).stream)
        // No sweep ran on Dec 14 (downtime): on Dec 15 both are due; only the day-of reminder goes out.
        try await harness.setClock(tehran(2024, 12, 15, 9))
        try await harness.run(ExpirationReminderJob(services: services), ["tick": 1])
        let jobs = try await harness.smsJobs()
        #expect(jobs.map { $0.payload["message_id"]?.stringValue ?? "" }.map { $0.hasSuffix(":0") } == [true])
        #expect(jobs.first?.payload["tokens"]?["token"] == "0")
        let skipped = try await harness.events("reminder.skipped")
        #expect(skipped.count == 1)
        #expect(skipped.first?.data["offset"] == 1)
        #expect(skipped.first?.data["reason"] == "superseded")
    }

    @Test("a backlog larger than one claim call sends each expiry's nearest due offset only, not one offset per call")
    func backlogAcrossClaimCalls() async throws {
        let harness = try await DomainHarness(environment: reminderEnvironment)
        let services = try harness.services()
        // 250 users subscribed Dec 1, expiring Dec 15: offsets 10, 3, 1 and 0 scheduled. No sweep ran until Dec 15, when
        // all four are due for each: 1,000 reminders, five claim calls of 200. Taken in score order, the first calls held
        // offset 10 alone for most users, and each user's offsets went out in different calls: four SMS each.
        try await harness.setClock(tehran(2024, 12, 1, 12))
        let users = (0..<250).map { "b\($0)" }
        for user in users {
            try await harness.run(SubscriptionUpsertJob(services: services), subscription(user, expires: "2024-12-15"))
        }
        #expect(try await harness.smsJobs().isEmpty)
        try await harness.setClock(tehran(2024, 12, 15, 9))
        try await harness.run(ExpirationReminderJob(services: services), ["tick": 1])
        let jobs = try await harness.smsJobs()
        #expect(jobs.count == 250, "one SMS a user")
        #expect(jobs.allSatisfy { ($0.payload["message_id"]?.stringValue ?? "").hasSuffix(":0") }, "each the day-of reminder")
        #expect(Set(jobs.compactMap { $0.payload["user_id"]?.stringValue }) == Set(users))
        let skipped = try await harness.events("reminder.skipped")
        #expect(skipped.count == 750 && skipped.allSatisfy { $0.data["reason"] == "superseded" })
    }

    @Test("a sweep that died holding a backlog's claims: the next sweep sends each expiry's nearest offset only")
    func staleBacklogAcrossClaimCalls() async throws {
        let harness = try await DomainHarness(environment: reminderEnvironment)
        let services = try harness.services()
        try await harness.setClock(tehran(2024, 12, 1, 12))
        let users = (0..<60).map { "d\($0)" }
        for user in users {
            try await harness.run(SubscriptionUpsertJob(services: services), subscription(user, expires: "2024-12-15"))
        }
        // A sweep claimed all 240 (60 users × offsets 10, 3, 1, 0) and died: every claim has the same old score, so the
        // next sweep takes them in member order, 200 a call ("0|…", "10|…", "1|…", then "3|…"): one expiry's offsets
        // fell in different calls, each sent as the nearest of its own.
        let due = services.key("{reminders}:due"), claimed = services.key("{reminders}:claimed")
        let members = (try await harness.redis.send("ZRANGE", due, "0", "-1").array ?? []).compactMap(\.string)
        #expect(members.count == 240)
        for member in members {
            try await harness.redis.send("ZREM", due, member)
            try await harness.redis.send("ZADD", claimed, "1", member)
        }
        try await harness.setClock(tehran(2024, 12, 15, 9))
        try await harness.run(ExpirationReminderJob(services: services), ["tick": 1])
        let jobs = try await harness.smsJobs()
        #expect(jobs.count == 60, "one SMS a user")
        #expect(jobs.allSatisfy { ($0.payload["message_id"]?.stringValue ?? "").hasSuffix(":0") }, "each the day-of reminder")
        #expect(try await harness.events("reminder.skipped").count == 180)
    }

    @Test("a sweep inside quiet hours releases nothing and puts itself off to their end, once, as a deferred job; that sweep releases")
    func quietHours() async throws {
        let harness = try await DomainHarness(environment: reminderEnvironment)
        let services = try harness.services()
        // Upserted at 22:00 (quiet hours) on offset 10's day: it stays due rather than going out now.
        try await harness.setClock(tehran(2024, 12, 1, 22))
        try await harness.run(SubscriptionUpsertJob(services: services), subscription("9", expires: "2024-12-11"))
        let sweep = ExpirationReminderJob(services: services)
        var putOffTo: Set<String> = []
        for (day, hour) in [(1, 22), (1, 23), (2, 0), (2, 3), (2, 7)] {
            try await harness.setClock(tehran(2024, 12, day, hour, 59))
            let failure = try #require(try await harness.failure(of: sweep, ReminderTick(tick: 1)), "a sweep in quiet hours ends deferred")
            #expect(failure.disposition == .discard)
            putOffTo.insert(try #require(failure.deferredTo))
        }
        #expect(try await harness.smsJobs().isEmpty)
        // Every sweep of these quiet hours put off the same one, to 08:00 on Dec 2.
        #expect(putOffTo.count == 1)
        let later = try await sweeps(harness)
        #expect(later.map(\.id) == Array(putOffTo))
        #expect(later.first?.payload["tick"] == .integer(Int64(tehran(2024, 12, 2, 8).timeIntervalSince1970)))
        try await harness.setClock(tehran(2024, 12, 2, 8))
        try await harness.run(sweep, ["tick": 1])
        // Dec 1 is offset 10 of Dec 11: released at 08:00 on Dec 2 with the days actually left (9).
        let jobs = try await harness.smsJobs()
        #expect(jobs.count == 1)
        #expect(jobs.first?.payload["tokens"]?["token"] == "9")
    }

    @Test("quiet hours that cover the schedule's 09:00 do not hold the reminders for good: they go out when quiet hours end")
    func quietHoursOverTheDailySweep() async throws {
        var environment = reminderEnvironment
        environment["SMS_QUIET_HOURS"] = "22-10"
        let harness = try await DomainHarness(environment: environment)
        let services = try harness.services()
        try await harness.setClock(tehran(2024, 12, 1, 12))
        try await harness.run(SubscriptionUpsertJob(services: services), subscription("10", expires: "2024-12-15"))
        // The schedule's sweep, 09:00 Tehran on Dec 5 (offset 10): inside 22-10.
        try await harness.setClock(tehran(2024, 12, 5, 9))
        let failure = try #require(try await harness.failure(of: ExpirationReminderJob(services: services), ReminderTick(tick: 1)))
        #expect(try await harness.smsJobs().isEmpty)
        let putOff = try #require(try await sweeps(harness).first)
        #expect(putOff.id == failure.deferredTo)
        #expect(putOff.payload["tick"] == .integer(Int64(tehran(2024, 12, 5, 10).timeIntervalSince1970)))
        // Its run at 10:00 releases offset 10's reminder.
        try await harness.setClock(tehran(2024, 12, 5, 10))
        #expect(try await harness.failure(of: ExpirationReminderJob(services: services), ReminderTick(tick: 1), id: putOff.id) == nil)
        let jobs = try await harness.smsJobs()
        #expect(jobs.count == 1)
        #expect(jobs.first?.payload["tokens"]?["token"] == "10")
    }

    @Test("the put-off sweep, run before quiet hours end by this host's clock, waits for its time as a retry")
    func putOffSweepRunEarly() async throws {
        let harness = try await DomainHarness(environment: reminderEnvironment)
        let services = try harness.services()
        try await harness.setClock(tehran(2024, 12, 2, 7))
        let sweep = ExpirationReminderJob(services: services)
        let first = try #require(try await harness.failure(of: sweep, ReminderTick(tick: 1)))
        let id = try #require(first.deferredTo)
        let early = try #require(try await harness.failure(of: sweep, ReminderTick(tick: 1), id: id))
        #expect(early.deferredTo == nil)
        guard case .retry(let at?) = early.disposition else {
            Issue.record("expected a retry at the end of quiet hours, got \(early.disposition)")
            return
        }
        // The domain clock is the harness's key: 08:00 is an hour of domain time ahead, in real time from now.
        #expect(abs(at - (Date().timeIntervalSince1970 + 3_600)) < 60)
    }

    /// The `reminders.expiration` jobs waiting in the default queue's scheduled set.
    private func sweeps(_ harness: DomainHarness) async throws -> [JobEnvelope] {
        let scheduled = try await harness.redis.send("HVALS", harness.jobs.keys("default").scheduledJobs).array ?? []
        return scheduled.compactMap { $0.bytes.flatMap { try? JobEnvelope.decode($0) } }.filter { $0.type == ExpirationReminderJob.type }
    }

    @Test("a renewal drops the old expiry's pending reminders and cancels its released sms.send still waiting")
    func renewal() async throws {
        let harness = try await DomainHarness(environment: reminderEnvironment)
        let services = try harness.services()
        try await harness.setClock(tehran(2024, 12, 5, 9))
        try await harness.run(SubscriptionUpsertJob(services: services), subscription("5", expires: "2024-12-15"))
        try await harness.run(ExpirationReminderJob(services: services), ["tick": 1])
        #expect(try await harness.smsJobs().count == 1, "offset 10 released")
        try await harness.setClock(tehran(2024, 12, 5, 12))
        try await harness.run(SubscriptionUpsertJob(services: services), subscription("5", expires: "2025-01-15", receipt: "R-2"))
        #expect(try await harness.smsJobs().isEmpty, "the waiting sms.send of the old expiry is cancelled")
        let renewed = try #require(try await harness.events("subscription.upserted").last)
        #expect(renewed.data["outcome"] == "renewed")
        #expect(renewed.data["cancelled_jobs"] == 1)
        #expect(renewed.data["dropped_reminders"] == 3)
        #expect(renewed.data["previous_expires_at"] == .integer(Int64(tehranDayEnd(2024, 12, 15).timeIntervalSince1970)))
        // Dec 12-15 pass: nothing for the old expiry.
        for day in 12...15 {
            try await harness.setClock(tehran(2024, 12, day, 9))
            try await harness.run(ExpirationReminderJob(services: services), ["tick": 1])
        }
        #expect(try await harness.smsJobs().isEmpty)
        // Jan 5: offset 10 of the new expiry, with the new receipt.
        try await harness.setClock(tehran(2025, 1, 5, 9))
        try await harness.run(ExpirationReminderJob(services: services), ["tick": 1])
        let jobs = try await harness.smsJobs()
        #expect(jobs.count == 1)
        #expect(jobs.first?.payload["tokens"]?["token3"] == "https://kamva.ir/email/receipt/R-2")
    }

    @Test("a release that failed after its enqueue, run again, records and announces the job it made: a renewal cancels it")
    func releaseRunAgainRecordsItsJob() async throws {
        let harness = try await DomainHarness(environment: reminderEnvironment)
        let services = try harness.services()
        try await harness.setClock(tehran(2024, 12, 4, 12))
        try await harness.run(SubscriptionUpsertJob(services: services), subscription("6", expires: "2024-12-15"))
        try await harness.setClock(tehran(2024, 12, 5, 9))
        // The record of released jobs cannot be written: the sweep fails after enqueueing the SMS.
        let released = services.key("{reminders}:jobs:6")
        try await harness.redis.send("SET", released, "unwritable")
        await #expect(throws: (any Error).self) { try await harness.run(ExpirationReminderJob(services: services), ["tick": 1], id: "sweep-6") }
        #expect(try await harness.smsJobs().count == 1)
        #expect(try await harness.events("reminder.queued").isEmpty)
        try await harness.redis.send("DEL", released)
        try await harness.run(ExpirationReminderJob(services: services), ["tick": 1], id: "sweep-6")
        let queued = try await harness.events("reminder.queued")
        let job = try #require(try await harness.smsJobs().first)
        #expect(queued.count == 1 && queued.first?.data["job_id"] == .string(job.id), "announced, naming the job the first run made")
        try await harness.setClock(tehran(2024, 12, 5, 12))
        try await harness.run(SubscriptionUpsertJob(services: services), subscription("6", expires: "2025-01-15", receipt: "R-2"))
        #expect(try await harness.smsJobs().isEmpty, "the renewal cancels the released SMS")
    }

    /// "N days left" holds on the release's day only: a reminder SMS held up past it (a backlog into quiet hours, a
    /// provider out of credit all day) was put off to 08:00 and went out the next morning with yesterday's count — the
    /// day-0 one after the subscription ended. Released with `not_after`, it ends `outdated` instead.
    @Test("a reminder SMS held up past its day ends outdated with sms.failed, not put off to the next morning")
    func aReminderHeldUpPastItsDayIsNotSentLate() async throws {
        let harness = try await DomainHarness(environment: reminderEnvironment)
        let services = try harness.services()
        try await harness.setClock(tehran(2024, 12, 5, 9))
        try await harness.run(SubscriptionUpsertJob(services: services), subscription("6", expires: "2024-12-15"))
        try await harness.run(ExpirationReminderJob(services: services), ["tick": 1])
        let released = try #require(try await harness.smsJobs().first, "offset 10 released")
        let payload = try JSONDecoder().decode(SMSSendPayload.self, from: Data(released.payload.encoded()))
        #expect(payload.notAfter == tehran(2024, 12, 6).timeIntervalSince1970 - 1, "the end of the release's day")
        // A backlog: the sms.send runs at 23:00, inside quiet hours; put off to 08:00 it would say "10 days" on the 6th.
        try await harness.redis.send("DEL", harness.jobs.keys(reminderSMSQueue).stream)
        try await harness.setClock(tehran(2024, 12, 5, 23))
        let failure = try await harness.failure(of: SMSSendJob(services: services), payload, id: released.id)
        guard case .discard = failure?.disposition else { Issue.record("ended \(String(describing: failure))"); return }
        let failed = try await harness.events("sms.failed")
        #expect(failed.count == 1 && failed.first?.data["reason"]?.stringValue?.hasPrefix("outdated: ") == true, "\(failed.map(\.data))")
        #expect(try await harness.smsJobs().isEmpty, "not put off to 08:00")
        // A copy run later (a retry) finds it given up.
        try await harness.setClock(tehran(2024, 12, 6, 8))
        #expect(try await harness.failure(of: SMSSendJob(services: services), payload, id: "a-later-copy") == nil)
        #expect(await harness.control.requests(to: .kavenegarLookup).isEmpty)
        #expect(try await harness.events("sms.sent").isEmpty)
        #expect(try await harness.events("sms.failed").count == 1)
    }

    @Test("the same expiry again only updates the details; delete drops everything and cancels waiting jobs")
    func sameExpiryAndDelete() async throws {
        let harness = try await DomainHarness(environment: reminderEnvironment)
        let services = try harness.services()
        try await harness.setClock(tehran(2024, 12, 4, 20))
        try await harness.run(SubscriptionUpsertJob(services: services), subscription("6", expires: "2024-12-15"))
        try await harness.run(SubscriptionUpsertJob(services: services), subscription("6", expires: "2024-12-15", phone: "09350000000"))
        #expect(try await harness.events("subscription.upserted").last?.data["outcome"] == "same")
        try await harness.setClock(tehran(2024, 12, 5, 9))
        try await harness.run(ExpirationReminderJob(services: services), ["tick": 1])
        #expect(try await harness.smsJobs().first?.payload["phone"] == "09350000000")
        try await harness.run(SubscriptionDeleteJob(services: services), ["user_id": 6])
        let deleted = try #require(try await harness.events("subscription.deleted").first)
        #expect(deleted.data["existed"] == true)
        #expect(deleted.data["dropped_reminders"] == 3)
        #expect(deleted.data["cancelled_jobs"] == 1)
        #expect(try await harness.smsJobs().isEmpty)
        #expect(try await harness.redis.send("ZCARD", services.key("{reminders}:due")).int == 0)
        try await harness.run(SubscriptionDeleteJob(services: services), ["user_id": "nobody"])
        #expect(try await harness.events("subscription.deleted").last?.data["existed"] == false)
    }

    /// Released, cancelled by a delete, then the same expiry upserted again: the reminder's once-key still names the
    /// cancelled job, and no `reminder.queued` announces it.
    @Test("a reminder released, cancelled, and due again for the same expiry announces no job that will never send")
    func releasedCancelledAndDueAgain() async throws {
        let harness = try await DomainHarness(environment: reminderEnvironment)
        let services = try harness.services()
        try await harness.setClock(tehran(2024, 12, 4, 12))
        try await harness.run(SubscriptionUpsertJob(services: services), subscription("7", expires: "2024-12-15"))
        try await harness.setClock(tehran(2024, 12, 5, 9))
        try await harness.run(ExpirationReminderJob(services: services), ["tick": 1])
        #expect(try await harness.events("reminder.queued").count == 1)
        try await harness.run(SubscriptionDeleteJob(services: services), ["user_id": 7])
        #expect(try await harness.smsJobs().isEmpty)
        try await harness.setClock(tehran(2024, 12, 5, 10))
        try await harness.run(SubscriptionUpsertJob(services: services), subscription("7", expires: "2024-12-15"))
        #expect(try await harness.events("reminder.queued").count == 1, "no second reminder.queued naming the cancelled job")
        #expect(try await harness.smsJobs().isEmpty)
        #expect(try await harness.redis.send("ZCARD", services.key("{reminders}:claimed")).int == 0)
    }

    @Test("a sweep that died after claiming is finished by a later sweep once its lease ran out, without a second SMS")
    func staleClaim() async throws {
        let harness = try await DomainHarness(environment: reminderEnvironment)
        let services = try harness.services()
        try await harness.setClock(tehran(2024, 12, 5, 9))
        try await harness.run(SubscriptionUpsertJob(services: services), subscription("8", expires: "2024-12-15"))
        // First sweep: released, then "crashed" before finishing its claim (put the member back as an old claim).
        try await harness.run(ExpirationReminderJob(services: services), ["tick": 1])
        let expires = Int(tehranDayEnd(2024, 12, 15).timeIntervalSince1970)
        try await harness.redis.send("ZADD", services.key("{reminders}:claimed"), "1", "10|\(expires)|8")
        // And one that died before enqueueing: offset 3 claimed long ago, never released.
        try await harness.redis.send("ZREM", services.key("{reminders}:due"), "3|\(expires)|8")
        try await harness.redis.send("ZADD", services.key("{reminders}:claimed"), "1", "3|\(expires)|8")
        try await harness.setClock(tehran(2024, 12, 12, 9))
        try await harness.run(ExpirationReminderJob(services: services), ["tick": 2])
        let ids = try await harness.smsJobs().compactMap { $0.payload["message_id"]?.stringValue }.sorted()
        #expect(ids == ["reminder.expiration:8:\(expires):10", "reminder.expiration:8:\(expires):3"])
        #expect(try await harness.events("reminder.queued").count == 2)
        #expect(try await harness.redis.send("ZCARD", services.key("{reminders}:claimed")).int == 0)
    }

    @Test("a sweep that fails after claiming retries once its claims are free to take, and that retry releases each reminder once")
    func failedSweepRetriesAfterItsClaimsLease() async throws {
        let harness = try await DomainHarness(environment: reminderEnvironment)
        let services = try harness.services()
        try await harness.setClock(tehran(2024, 12, 4, 12))
        for user in ["a", "b"] { try await harness.run(SubscriptionUpsertJob(services: services), subscription(user, expires: "2024-12-15")) }
        try await harness.setClock(tehran(2024, 12, 5, 9))
        // User b's record cannot be read (WRONGTYPE): the sweep fails with both reminders claimed.
        let key = services.key("{reminders}:sub:b")
        let saved = (try await harness.redis.send("HGETALL", key).array ?? []).compactMap(\.string)
        try #require(!saved.isEmpty)
        try await harness.redis.send("DEL", key)
        try await harness.redis.send("SET", key, "unreadable")
        let claimed = services.key("{reminders}:claimed")
        do {
            try await harness.run(ExpirationReminderJob(services: services), ["tick": 1])
            Issue.record("expected the sweep to fail")
        } catch let failure as JobFailure {
            let scores = (try await harness.redis.send("ZRANGE", claimed, "0", "-1", "WITHSCORES").array ?? []).enumerated()
                .filter { $0.offset % 2 == 1 }.compactMap { $0.element.string.flatMap(Double.init) }
            #expect(!scores.isEmpty)
            guard case .retry(let at?) = failure.disposition else {
                Issue.record("expected a retry at a set time, got \(failure.disposition)")
                return
            }
            // Sooner, the retry found the claims still leased and did nothing: they waited for the next day's sweep.
            #expect(at >= (scores.max() ?? 0) + Double(ExpirationReminderJob.lease), "retry at \(at), claims at \(scores)")
            #expect(at <= (scores.max() ?? 0) + Double(ExpirationReminderJob.lease) + 60)
        }
        try await harness.redis.send("DEL", key)
        try await harness.redis.send(RedisCommand("HSET", [key] + saved))
        // The retry's time: the claims' lease has run out.
        for member in (try await harness.redis.send("ZRANGE", claimed, "0", "-1").array ?? []).compactMap(\.string) {
            try await harness.redis.send("ZINCRBY", claimed, String(-ExpirationReminderJob.lease - 1), member)
        }
        try await harness.run(ExpirationReminderJob(services: services), ["tick": 1])
        let expires = Int(tehranDayEnd(2024, 12, 15).timeIntervalSince1970)
        let ids = try await harness.smsJobs().compactMap { $0.payload["message_id"]?.stringValue }.sorted()
        #expect(ids == ["reminder.expiration:a:\(expires):10", "reminder.expiration:b:\(expires):10"])
        #expect(try await harness.events("reminder.queued").count == 2)
        #expect(try await harness.redis.send("ZCARD", claimed).int == 0)
    }

    @Test("a sweep that died mid-release, run again as the same job at once (recovered in seconds), releases its own claims that day")
    func sweepRunAgainTakesBackItsOwnClaims() async throws {
        let harness = try await DomainHarness(environment: reminderEnvironment)
        let services = try harness.services()
        try await harness.setClock(tehran(2024, 12, 14, 12))
        for user in ["a", "b"] { try await harness.run(SubscriptionUpsertJob(services: services), subscription(user, expires: "2024-12-15")) }
        try await harness.setClock(tehran(2024, 12, 15, 9))
        // The SMS queue's stream cannot take a job: the sweep fails holding both claims, long before their lease ends.
        let stream = harness.jobs.keys(services.settings.reminders.smsQueue).stream
        try await harness.redis.send("SET", stream, "not a stream")
        await #expect(throws: (any Error).self) { try await harness.run(ExpirationReminderJob(services: services), ["tick": 1], id: "sweep-1") }
        let claimed = services.key("{reminders}:claimed")
        #expect(try await harness.redis.send("ZCARD", claimed).int == 2)
        try await harness.redis.send("DEL", stream)
        // Another sweep leaves them (their lease holds); the same job, run again, takes them back.
        try await harness.run(ExpirationReminderJob(services: services), ["tick": 2], id: "sweep-2")
        #expect(try await harness.smsJobs().isEmpty)
        try await harness.run(ExpirationReminderJob(services: services), ["tick": 1], id: "sweep-1")
        let expires = Int(tehranDayEnd(2024, 12, 15).timeIntervalSince1970)
        let ids = try await harness.smsJobs().compactMap { $0.payload["message_id"]?.stringValue }.sorted()
        #expect(ids == ["reminder.expiration:a:\(expires):0", "reminder.expiration:b:\(expires):0"], "the day-of reminders, that day")
        #expect(try await harness.redis.send("ZCARD", claimed).int == 0)
        #expect(try await harness.redis.send("EXISTS", services.key("{reminders}:claims:sweep-1")).int == 0, "finished claims are forgotten")
    }

    @Test("overlapping sweeps: 6 at once over 60 due reminders release each exactly once")
    func overlappingSweeps() async throws {
        let harness = try await DomainHarness(environment: reminderEnvironment)
        let services = try harness.services()
        try await harness.setClock(tehran(2024, 12, 4, 12))
        for user in 0..<60 {
            try await harness.run(SubscriptionUpsertJob(services: services), subscription("p\(user)", expires: "2024-12-15"))
        }
        try await harness.setClock(tehran(2024, 12, 5, 9))
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<6 {
                group.addTask { try await harness.run(ExpirationReminderJob(services: services), ["tick": 1]) }
            }
            try await group.waitForAll()
        }
        let ids = try await harness.smsJobs().compactMap { $0.payload["message_id"]?.stringValue }
        #expect(ids.count == 60)
        #expect(Set(ids).count == 60)
        let queued = try await harness.events("reminder.queued")
        #expect(queued.count == 60)
        #expect(Set(queued.compactMap { $0.data["user_id"]?.stringValue }).count == 60)
    }

    @Test("without RECEIPT_BASE_URL the sweep fails with a retryable error naming it, and keeps the reminders due")
    func missingReceiptBase() async throws {
        let harness = try await DomainHarness(environment: reminderEnvironment)
        var settings = try harness.services().settings
        settings.reminders.receiptBaseURL = nil
        let base = try harness.services()
        let services = DomainServices(jobs: base.jobs, events: base.events, clock: base.clock, calendar: base.calendar,
                                      providers: base.providers, settings: settings)
        try await harness.setClock(tehran(2024, 12, 5, 9))
        try await harness.run(SubscriptionUpsertJob(services: services), subscription("3", expires: "2024-12-15"))
        do {
            try await harness.run(ExpirationReminderJob(services: services), ["tick": 1])
            Issue.record("expected a failure")
        } catch let failure as JobFailure {
            #expect(failure.disposition == .retry(at: nil))
            #expect(failure.message.contains("RECEIPT_BASE_URL"))
        }
        #expect(try await harness.redis.send("ZCARD", services.key("{reminders}:due")).int == 4)
    }

    @Test("bad upserts fail for good with the field named")
    func badUpserts() async throws {
        let harness = try await DomainHarness(environment: reminderEnvironment)
        let services = try harness.services()
        let cases: [(JSONValue, String)] = [
            (subscription("1", expires: "soon"), "expires_at"),
            (subscription("1", expires: "2024-12-15", receipt: "a b"), "receipt_id"),
            (subscription("1", expires: "2024-12-15", phone: "call me"), "phone"),
            // A number sms.send would refuse (not an Iranian mobile) is refused on arrival, not when the reminder is due.
            (subscription("1", expires: "2024-12-15", phone: "+4915112345678"), "phone"),
            (subscription("", expires: "2024-12-15"), "user_id"),
        ]
        for (payload, field) in cases {
            do {
                try await harness.run(SubscriptionUpsertJob(services: services), payload)
                Issue.record("accepted \(payload)")
            } catch let failure as JobFailure {
                #expect(failure.disposition == .permanent)
                #expect(failure.message.contains(field))
            }
        }
    }
}

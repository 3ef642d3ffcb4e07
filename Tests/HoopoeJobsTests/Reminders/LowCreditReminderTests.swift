import Foundation
import HoopoeCore
import HoopoeJSON
import HoopoeJobs
import ProviderFakes
import Providers
import Redis
import Testing
import TestSupport

/// credit.threshold.set / .delete, credit.balance and reminders.low_credit, in this process against the test Redis
/// and the fake Brevo.
@Suite("Reminders: low credit", .serialized)
struct LowCreditReminderTests {
    func threshold(_ user: String, _ id: String, _ value: Double, authKey: String? = nil) -> JSONValue {
        var payload: [String: JSONValue] = ["user_id": .string(user), "threshold_id": .string(id), "threshold": .double(value),
                                            "phone": "09121234567", "first_name": "Reza"]
        if let authKey { payload["auth_key"] = .string(authKey) }
        return .object(payload)
    }

    @Test("falling below fires one sms.send, staying below sends nothing more, rising re-arms, falling again fires again")
    func fireAndRearm() async throws {
        let harness = try await DomainHarness(environment: reminderEnvironment)
        let services = try harness.services()
        try await harness.setClock(tehran(2024, 12, 5, 10))
        try await harness.run(CreditThresholdSetJob(services: services), threshold("u1", "t1", 100))
        let sweep = LowCreditReminderJob(services: services)
        try await harness.run(sweep, ["tick": 1])
        #expect(try await harness.smsJobs().isEmpty, "no balance known yet")

        try await harness.run(CreditBalanceJob(services: services), ["user_id": "u1", "credits": 250])
        try await harness.run(sweep, ["tick": 2])
        #expect(try await harness.smsJobs().isEmpty)

        try await harness.run(CreditBalanceJob(services: services), ["user_id": "u1", "credits": 80])
        try await harness.run(sweep, ["tick": 3])
        try await harness.run(CreditBalanceJob(services: services), ["user_id": "u1", "credits": 40])
        try await harness.run(sweep, ["tick": 4])
        var jobs = try await harness.smsJobs()
        #expect(jobs.count == 1)
        let sms = try #require(jobs.first)
        #expect(sms.payload["template"] == "low_credit")
        #expect(sms.payload["purpose"] == "reminder.low_credit")
        #expect(sms.payload["message_id"] == "reminder.low_credit:u1:t1:1")
        #expect(sms.payload["tokens"] == ["token10": "Reza", "token": "80", "token2": "100"])
        let queued = try await harness.events("reminder.queued")
        #expect(queued.count == 1)
        #expect(queued.first?.data["kind"] == "low_credit")
        #expect(queued.first?.data["threshold_id"] == "t1")
        #expect(queued.first?.data["balance"] == "80")

        try await harness.run(CreditBalanceJob(services: services), ["user_id": "u1", "credits": 100])
        try await harness.run(sweep, ["tick": 5])
        #expect(try await harness.events("reminder.rearmed").count == 1)
        // Its job stays in the queue, but its message is cancelled: when it runs it sends nothing (the balance it
        // quotes is gone).
        #expect(try await SMSLedger(services: services).record("reminder.low_credit:u1:t1:1")?.state == "cancelled")
        try await harness.run(CreditBalanceJob(services: services), ["user_id": "u1", "credits": 99])
        try await harness.run(sweep, ["tick": 6])
        jobs = try await harness.smsJobs()
        #expect(jobs.compactMap { $0.payload["message_id"]?.stringValue } == ["reminder.low_credit:u1:t1:1", "reminder.low_credit:u1:t1:2"])
        #expect(try await harness.events("reminder.queued").count == 2)
    }

    /// A sweep at 23:00 fired; `sms.send` put the SMS off to 08:00 (quiet hours); the user topped up at 00:30 and the
    /// next sweep re-armed the threshold: the SMS still went out at 08:00, quoting the balance the user had left behind.
    /// Nor did anything bound how late it could go: it carried no `not_after`.
    @Test("a low-credit SMS put off by quiet hours is not sent once a top-up re-armed its threshold; one past its not_after, a day after the firing, ends outdated")
    func aWaitingSMSIsNotSentAfterATopUp() async throws {
        let harness = try await DomainHarness(environment: reminderEnvironment)
        let services = try harness.services()
        let sweep = LowCreditReminderJob(services: services)
        try await harness.setClock(tehran(2024, 12, 5, 23))
        try await harness.run(CreditThresholdSetJob(services: services), threshold("u5", "t1", 100))
        try await harness.run(CreditBalanceJob(services: services), ["user_id": "u5", "credits": 40])
        try await harness.run(sweep, ["tick": 1])
        let fired = try #require(try await harness.smsJobs().first)
        #expect(fired.payload["not_after"]?.doubleValue == tehran(2024, 12, 6, 23).timeIntervalSince1970, "a day after the firing")
        let sms = try JSONDecoder().decode(SMSSendPayload.self, from: Data(fired.payload.encoded()))
        let deferred = try await harness.failure(of: SMSSendJob(services: services), sms, id: fired.id)
        #expect(deferred?.deferredTo != nil, "quiet hours put it off to 08:00: \(String(describing: deferred))")

        try await harness.setClock(tehran(2024, 12, 6, 0, 30))
        try await harness.run(CreditBalanceJob(services: services), ["user_id": "u5", "credits": 500])
        try await harness.run(sweep, ["tick": 2])
        #expect(try await harness.events("reminder.rearmed").count == 1)
        try await harness.setClock(tehran(2024, 12, 6, 8))
        #expect(try await harness.failure(of: SMSSendJob(services: services), sms, id: deferred?.deferredTo ?? "put-off") == nil)
        #expect(await harness.control.requests(to: .kavenegarLookup).isEmpty, "not sent after the top-up")
        #expect(try await harness.events("sms.sent").isEmpty)

        // Fired again at 09:00, and held up past a day (workers down): not sent with that day-old balance.
        try await harness.setClock(tehran(2024, 12, 6, 9))
        try await harness.run(CreditBalanceJob(services: services), ["user_id": "u5", "credits": 30])
        try await harness.run(sweep, ["tick": 3])
        let again = try #require(try await harness.smsJobs().first { $0.payload["message_id"] == "reminder.low_credit:u5:t1:2" })
        let late = try JSONDecoder().decode(SMSSendPayload.self, from: Data(again.payload.encoded()))
        try await harness.setClock(tehran(2024, 12, 7, 9, 30))
        #expect(try await harness.failure(of: SMSSendJob(services: services), late, id: again.id)?.disposition == .discard)
        #expect(await harness.control.requests(to: .kavenegarLookup).isEmpty)
        let failed = try await harness.events("sms.failed")
        #expect(failed.count == 1 && failed.first?.data["reason"]?.stringValue?.hasPrefix("outdated:") == true, "\(failed.map(\.data))")
    }

    /// The flip to armed and its event were two writes: an event write that failed lost `reminder.rearmed` for good
    /// (the next run found the threshold armed). It stays `rearming` until the event is written.
    @Test("a reminder.rearmed whose write failed is written by the next run, once")
    func rearmedAnnouncedAfterAFailedWrite() async throws {
        let harness = try await DomainHarness(environment: reminderEnvironment)
        let services = try harness.services()
        try await harness.setClock(tehran(2024, 12, 5, 10))
        let sweep = LowCreditReminderJob(services: services)
        try await harness.run(CreditThresholdSetJob(services: services), threshold("u3", "t1", 100))
        try await harness.run(CreditBalanceJob(services: services), ["user_id": "u3", "credits": 40])
        try await harness.run(sweep, ["tick": 1])
        try await harness.run(CreditBalanceJob(services: services), ["user_id": "u3", "credits": 150])
        let events = services.key("events")
        try await harness.redis.send("DEL", events)  // the events so far go: the stream of another type breaks writes
        try await harness.redis.send("SET", events, "not a stream")
        await #expect(throws: (any Error).self) { try await harness.run(sweep, ["tick": 2]) }
        try await harness.redis.send("DEL", events)
        try await harness.run(sweep, ["tick": 3])
        try await harness.run(sweep, ["tick": 4])
        #expect(try await harness.events("reminder.rearmed").map { $0.data["threshold_id"] } == ["t1"])
        // Armed: falling again fires again.
        try await harness.run(CreditBalanceJob(services: services), ["user_id": "u3", "credits": 50])
        try await harness.run(sweep, ["tick": 5])
        #expect(try await harness.smsJobs().compactMap { $0.payload["message_id"]?.stringValue } == ["reminder.low_credit:u3:t1:1", "reminder.low_credit:u3:t1:2"])
    }

    @Test("each threshold of a user fires on its own; a deleted threshold never fires")
    func severalThresholds() async throws {
        let harness = try await DomainHarness(environment: reminderEnvironment)
        let services = try harness.services()
        try await harness.setClock(tehran(2024, 12, 5, 10))
        try await harness.run(CreditThresholdSetJob(services: services), threshold("u2", "low", 50))
        try await harness.run(CreditThresholdSetJob(services: services), threshold("u2", "high", 500))
        try await harness.run(CreditThresholdSetJob(services: services), threshold("u2", "gone", 1000))
        try await harness.run(CreditThresholdDeleteJob(services: services), ["user_id": "u2", "threshold_id": "gone"], id: "delete-1")
        #expect(try await harness.events("credit.threshold.deleted").first?.data["existed"] == true)
        // The same job run again (its event write failed) answers as its first run did; another finds nothing.
        try await harness.run(CreditThresholdDeleteJob(services: services), ["user_id": "u2", "threshold_id": "gone"], id: "delete-1")
        try await harness.run(CreditThresholdDeleteJob(services: services), ["user_id": "u2", "threshold_id": "gone"], id: "delete-2")
        #expect(try await harness.events("credit.threshold.deleted").map { $0.data["existed"] } == [true, true, false])
        try await harness.run(CreditBalanceJob(services: services), ["user_id": "u2", "credits": 300])
        try await harness.run(LowCreditReminderJob(services: services), ["tick": 1])
        #expect(try await harness.smsJobs().compactMap { $0.payload["message_id"]?.stringValue } == ["reminder.low_credit:u2:high:1"])
        try await harness.run(CreditBalanceJob(services: services), ["user_id": "u2", "credits": 10])
        try await harness.run(LowCreditReminderJob(services: services), ["tick": 2])
        #expect(try await harness.smsJobs().compactMap { $0.payload["message_id"]?.stringValue }.sorted()
                == ["reminder.low_credit:u2:high:1", "reminder.low_credit:u2:low:1"])
    }

    /// A drop past thresholds 500 and 200 in one step fired both, each with its own message and `sms.send`: two
    /// near-identical SMS in the same second, where the page promises one.
    @Test("one drop past several thresholds sends one SMS, for the lowest; the higher ones stay quiet and re-arm as usual")
    func oneDropPastSeveralThresholdsSendsOneSMS() async throws {
        let harness = try await DomainHarness(environment: reminderEnvironment)
        let services = try harness.services()
        try await harness.setClock(tehran(2024, 12, 5, 10))
        let sweep = LowCreditReminderJob(services: services)
        try await harness.run(CreditThresholdSetJob(services: services), threshold("61", "t500", 500))
        try await harness.run(CreditThresholdSetJob(services: services), threshold("61", "t200", 200))
        try await harness.run(CreditThresholdSetJob(services: services), threshold("61", "same200", 200))
        try await harness.run(CreditBalanceJob(services: services), ["user_id": "61", "credits": 100])
        try await harness.run(sweep, ["tick": 1])
        func messages() async throws -> [String] { try await harness.smsJobs().compactMap { $0.payload["message_id"]?.stringValue }.sorted() }
        #expect(try await messages() == ["reminder.low_credit:61:same200:1"], "the lowest only (equal values: the smallest id)")
        #expect(try await harness.events("reminder.queued").map { $0.data["threshold_id"] } == ["same200"])
        try await harness.run(sweep, ["tick": 2])
        #expect(try await messages().count == 1, "still below: nothing more")

        // Back above 200 only: the two re-arm (the one that texted cancels its message); t500, fired silent by that
        // drop and still crossed, is texted now.
        try await harness.run(CreditBalanceJob(services: services), ["user_id": "61", "credits": 300])
        try await harness.run(sweep, ["tick": 3])
        #expect(try await harness.events("reminder.rearmed").compactMap { $0.data["threshold_id"]?.stringValue }.sorted() == ["same200", "t200"])
        #expect(try await SMSLedger(services: services).record("reminder.low_credit:61:same200:1")?.state == "cancelled")
        #expect(try await messages() == ["reminder.low_credit:61:same200:1", "reminder.low_credit:61:t500:1"])
        // Back above 500: t500 re-arms and cancels its message.
        try await harness.run(CreditBalanceJob(services: services), ["user_id": "61", "credits": 600])
        try await harness.run(sweep, ["tick": 4])
        #expect(try await harness.events("reminder.rearmed").compactMap { $0.data["threshold_id"]?.stringValue }.sorted() == ["same200", "t200", "t500"])
        #expect(try await SMSLedger(services: services).record("reminder.low_credit:61:t500:1")?.state == "cancelled")
        // A crossing of 500 alone texts for 500; a later one of 200 texts again.
        try await harness.run(CreditBalanceJob(services: services), ["user_id": "61", "credits": 400])
        try await harness.run(sweep, ["tick": 5])
        try await harness.run(CreditBalanceJob(services: services), ["user_id": "61", "credits": 150])
        try await harness.run(sweep, ["tick": 6])
        #expect(try await messages() == ["reminder.low_credit:61:same200:1", "reminder.low_credit:61:same200:2",
                                         "reminder.low_credit:61:t500:1", "reminder.low_credit:61:t500:2"])
    }

    /// 600 → 100 at 23:00 fired 200 (SMS, put off by quiet hours) and 500 (silent). A top-up to 300 at 02:00 re-armed
    /// 200 and cancelled its SMS, and 500 stayed fired and silent while the balance stayed below it: the user was never
    /// told about 500.
    @Test("a top-up that re-arms the threshold that texted a drop texts the one fired silent by it that is still crossed")
    func aTopUpBetweenThresholdsTextsTheHigherOne() async throws {
        let harness = try await DomainHarness(environment: reminderEnvironment)
        let services = try harness.services()
        let sweep = LowCreditReminderJob(services: services)
        try await harness.setClock(tehran(2024, 12, 5, 22))
        try await harness.run(CreditThresholdSetJob(services: services), threshold("62", "t500", 500))
        try await harness.run(CreditThresholdSetJob(services: services), threshold("62", "t200", 200))
        try await harness.run(CreditBalanceJob(services: services), ["user_id": "62", "credits": 600])
        try await harness.run(sweep, ["tick": 1])
        try await harness.setClock(tehran(2024, 12, 5, 23))
        try await harness.run(CreditBalanceJob(services: services), ["user_id": "62", "credits": 100])
        try await harness.run(sweep, ["tick": 2])
        func messages() async throws -> [String] { try await harness.smsJobs().compactMap { $0.payload["message_id"]?.stringValue }.sorted() }
        #expect(try await messages() == ["reminder.low_credit:62:t200:1"])

        try await harness.setClock(tehran(2024, 12, 6, 2))
        try await harness.run(CreditBalanceJob(services: services), ["user_id": "62", "credits": 300])
        try await harness.run(sweep, ["tick": 3])
        #expect(try await SMSLedger(services: services).record("reminder.low_credit:62:t200:1")?.state == "cancelled")
        #expect(try await messages() == ["reminder.low_credit:62:t200:1", "reminder.low_credit:62:t500:1"], "one SMS, for 500")
        let sms = try #require(try await harness.smsJobs().first { $0.payload["message_id"] == "reminder.low_credit:62:t500:1" })
        #expect(sms.payload["tokens"] == ["token10": "Reza", "token": "300", "token2": "500"])
        try await harness.run(sweep, ["tick": 4])
        #expect(try await messages().count == 2, "still below 500: nothing more")
        #expect(try await harness.events("reminder.rearmed").compactMap { $0.data["threshold_id"]?.stringValue } == ["t200"])
    }

    /// 600 → 100 at 23:00 past 700, 500 and 200: the SMS for 200, put off by quiet hours to 08:00; 700 and 500 silent.
    /// Threshold 200 deleted at 01:00: its SMS still went out at 08:00, quoting a threshold the user had deleted, and 700
    /// and 500 stayed fired and silent until the balance rose past them. Now the waiting SMS is stopped and the two are
    /// re-armed and fire at once: one SMS, for 500 (700 silent by it, and texted when a top-up re-arms 500).
    @Test("a deleted threshold whose drop's SMS never went: the ones fired silent by it are texted once, for the lowest")
    func aDeletedCarrierWhoseSMSWaitedHandsTheDropOn() async throws {
        let harness = try await DomainHarness(environment: reminderEnvironment)
        let services = try harness.services()
        let sweep = LowCreditReminderJob(services: services)
        try await harness.setClock(tehran(2024, 12, 5, 22))
        for (id, value) in [("t700", 700.0), ("t500", 500), ("t200", 200)] {
            try await harness.run(CreditThresholdSetJob(services: services), threshold("64", id, value))
        }
        try await harness.run(CreditBalanceJob(services: services), ["user_id": "64", "credits": 800])
        try await harness.run(sweep, ["tick": 1])
        try await harness.setClock(tehran(2024, 12, 5, 23))
        try await harness.run(CreditBalanceJob(services: services), ["user_id": "64", "credits": 100])
        try await harness.run(sweep, ["tick": 2])
        func messages() async throws -> [String] { try await harness.smsJobs().compactMap { $0.payload["message_id"]?.stringValue }.sorted() }
        #expect(try await messages() == ["reminder.low_credit:64:t200:1"])
        let fired = try #require(try await harness.smsJobs().first)
        let sms = try JSONDecoder().decode(SMSSendPayload.self, from: Data(fired.payload.encoded()))
        let deferred = try await harness.failure(of: SMSSendJob(services: services), sms, id: fired.id)
        #expect(deferred?.deferredTo != nil, "quiet hours put it off to 08:00: \(String(describing: deferred))")

        try await harness.setClock(tehran(2024, 12, 6, 1))
        try await harness.run(CreditThresholdDeleteJob(services: services), ["user_id": "64", "threshold_id": "t200"])
        try await harness.run(sweep, ["tick": 3])
        #expect(try await SMSLedger(services: services).record("reminder.low_credit:64:t200:1")?.state == "cancelled")
        #expect(try await messages() == ["reminder.low_credit:64:t200:1", "reminder.low_credit:64:t500:1"], "one SMS, for 500")
        let handed = try #require(try await harness.smsJobs().first { $0.payload["message_id"] == "reminder.low_credit:64:t500:1" })
        #expect(handed.payload["tokens"] == ["token10": "Reza", "token": "100", "token2": "500"])
        #expect(try await harness.events("reminder.rearmed").isEmpty, "the balance did not come back")
        try await harness.run(sweep, ["tick": 4])
        #expect(try await messages().count == 2, "still below: nothing more")
        try await harness.setClock(tehran(2024, 12, 6, 8))
        #expect(try await harness.failure(of: SMSSendJob(services: services), sms, id: deferred?.deferredTo ?? "put-off") == nil)
        #expect(await harness.control.requests(to: .kavenegarLookup).isEmpty, "the deleted threshold's SMS is not sent")

        // 700 was fired silent by 500's SMS: a top-up past 500 texts it, as for any drop.
        try await harness.run(CreditBalanceJob(services: services), ["user_id": "64", "credits": 600])
        try await harness.run(sweep, ["tick": 5])
        #expect(try await messages() == ["reminder.low_credit:64:t200:1", "reminder.low_credit:64:t500:1", "reminder.low_credit:64:t700:1"])
    }

    /// The same drop, its SMS sent before threshold 200 was deleted: the user was told of the drop, and a second SMS for
    /// it (for 500, quoting the same balance) is not sent. 500 stays fired, with that SMS as its own: a top-up re-arms it.
    @Test("a deleted threshold whose drop's SMS went: no second SMS for that drop; the others re-arm as usual")
    func aDeletedCarrierWhoseSMSWentSendsNoSecond() async throws {
        let harness = try await DomainHarness(environment: reminderEnvironment)
        let services = try harness.services()
        let sweep = LowCreditReminderJob(services: services)
        try await harness.setClock(tehran(2024, 12, 5, 10))
        try await harness.run(CreditThresholdSetJob(services: services), threshold("65", "t500", 500))
        try await harness.run(CreditThresholdSetJob(services: services), threshold("65", "t200", 200))
        try await harness.run(CreditBalanceJob(services: services), ["user_id": "65", "credits": 100])
        try await harness.run(sweep, ["tick": 1])
        let fired = try #require(try await harness.smsJobs().first)
        let sms = try JSONDecoder().decode(SMSSendPayload.self, from: Data(fired.payload.encoded()))
        #expect(try await harness.failure(of: SMSSendJob(services: services), sms, id: fired.id) == nil)
        #expect(try await SMSLedger(services: services).record("reminder.low_credit:65:t200:1")?.state == "sent")

        try await harness.run(CreditThresholdDeleteJob(services: services), ["user_id": "65", "threshold_id": "t200"])
        try await harness.run(sweep, ["tick": 2])
        try await harness.run(sweep, ["tick": 3])
        #expect(try await harness.smsJobs().count == 1, "told of the drop already")
        #expect(try await SMSLedger(services: services).record("reminder.low_credit:65:t200:1")?.state == "sent")
        try await harness.run(CreditBalanceJob(services: services), ["user_id": "65", "credits": 600])
        try await harness.run(sweep, ["tick": 4])
        #expect(try await harness.events("reminder.rearmed").compactMap { $0.data["threshold_id"]?.stringValue } == ["t500"])
        try await harness.run(CreditBalanceJob(services: services), ["user_id": "65", "credits": 400])
        try await harness.run(sweep, ["tick": 5])
        #expect(try await harness.smsJobs().compactMap { $0.payload["message_id"]?.stringValue }.sorted()
                    == ["reminder.low_credit:65:t200:1", "reminder.low_credit:65:t500:1"], "a new drop past 500: its own SMS")
    }

    /// Thresholds fired before `<id>:last` existed each had their own SMS: a top-up between them re-arms the lower
    /// one only, and texts nothing.
    @Test("thresholds fired before the last message id was kept: a top-up between them texts nothing")
    func oldFiredThresholdsStayQuiet() async throws {
        let harness = try await DomainHarness(environment: reminderEnvironment)
        let services = try harness.services()
        try await harness.setClock(tehran(2024, 12, 5, 10))
        try await harness.run(CreditThresholdSetJob(services: services), threshold("63", "t500", 500))
        try await harness.run(CreditThresholdSetJob(services: services), threshold("63", "t200", 200))
        try await harness.redis.send("HSET", services.key("{credit}:state:63"), "t500", "fired", "t500:n", "1", "t200", "fired", "t200:n", "1")
        try await harness.run(CreditBalanceJob(services: services), ["user_id": "63", "credits": 300])
        try await harness.run(LowCreditReminderJob(services: services), ["tick": 1])
        #expect(try await harness.events("reminder.rearmed").compactMap { $0.data["threshold_id"]?.stringValue } == ["t200"])
        #expect(try await harness.smsJobs().isEmpty)
    }

    @Test("a decided SMS left in the outbox by a crash is enqueued by the next run, once, and announced naming that job")
    func outboxRecovery() async throws {
        let harness = try await DomainHarness(environment: reminderEnvironment)
        let services = try harness.services()
        try await harness.setClock(tehran(2024, 12, 5, 10))
        try await harness.run(CreditThresholdSetJob(services: services), threshold("u3", "t", 100))
        try await harness.run(CreditBalanceJob(services: services), ["user_id": "u3", "credits": 5])
        try await harness.run(LowCreditReminderJob(services: services), ["tick": 1])
        // Put the same decision back as if the run had died after enqueueing but before clearing the outbox.
        let entry: JSONValue = ["message_id": "reminder.low_credit:u3:t:1", "user_id": "u3", "threshold_id": "t",
                                "threshold": "100", "balance": "5", "phone": "09121234567", "first_name": "Reza"]
        try await harness.redis.send("HSET", services.key("{credit}:outbox"), "reminder.low_credit:u3:t:1",
                                     String(decoding: entry.encoded(), as: UTF8.self))
        try await harness.run(LowCreditReminderJob(services: services), ["tick": 2])
        let jobs = try await harness.smsJobs()
        #expect(jobs.count == 1)
        // The drain cannot tell whether the run that died announced it: it announces again (events are at least once).
        let queued = try await harness.events("reminder.queued")
        #expect(queued.count == 2 && queued.allSatisfy { $0.data["job_id"] == .string(jobs.first?.id ?? "") }, "\(queued.map(\.data))")
        #expect(try await harness.redis.send("HLEN", services.key("{credit}:outbox")).int == 0)
    }

    /// Creates children in the fake Brevo with the given email credits; returns their auth keys.
    func children(_ harness: DomainHarness, _ credits: [Int64]) async throws -> [String] {
        let brevo = try #require(try harness.services().providers.brevo)
        var keys: [String] = []
        for (index, amount) in credits.enumerated() {
            let created = try await brevo.createChild(BrevoNewChild(
                email: "user\(index)@example.com", firstName: "U", lastName: "\(index)", companyName: "C", password: "Pa55w0rd!"))
            let id = try #require(created.value.id)
            if amount > 0 { _ = try await brevo.addCredits(to: .id(id), email: amount) }
            keys.append(try #require(created.value.authKey))
        }
        return keys
    }

    /// The child emails auth keys resolved to are a cache of personal data: kept while a threshold names the key, not
    /// after (session 44: a deleted threshold's, or one whose key changed, stayed for good).
    @Test("a child email is forgotten once no threshold names its auth key: the threshold deleted, or given another key")
    func childEmailsFollowTheirThresholds() async throws {
        let harness = try await DomainHarness(environment: reminderEnvironment)
        let services = try harness.services()
        try await harness.setClock(tehran(2024, 12, 5, 10))
        let keys = try await children(harness, [50, 60, 70])
        let emails = services.key("{credit}:child_email")
        func known() async throws -> Set<String> {
            Set((try await harness.redis.send("HKEYS", emails).array ?? []).compactMap(\.string))
        }
        try await harness.run(CreditThresholdSetJob(services: services), threshold("a", "t", 100, authKey: keys[0]))
        try await harness.run(CreditThresholdSetJob(services: services), threshold("b", "t", 100, authKey: keys[1]))
        try await harness.run(LowCreditReminderJob(services: services), ["tick": 1])
        #expect(try await known() == [keys[0], keys[1]], "both resolved by the sweep")

        try await harness.run(CreditThresholdDeleteJob(services: services), ["user_id": "a", "threshold_id": "t"])
        #expect(try await known() == [keys[1]], "a's threshold deleted: its child's email is not kept")

        try await harness.run(CreditThresholdSetJob(services: services), threshold("b", "t", 100, authKey: keys[2]))
        #expect(try await known().isEmpty, "b's threshold now names another key: the old one's email is not kept")
        try await harness.run(LowCreditReminderJob(services: services), ["tick": 2])
        #expect(try await known() == [keys[2]])
        #expect(try await harness.redis.send("HGET", emails, keys[2]).string == "user2@example.com")

        // The same key set again keeps nothing stale either: it is resolved afresh.
        try await harness.run(CreditThresholdSetJob(services: services), threshold("b", "t", 90, authKey: keys[2]))
        #expect(try await known().isEmpty)
    }

    @Test("balances read from Brevo: auth keys resolved once, then 20 children per list call; below → SMS")
    func brevoRead() async throws {
        let harness = try await DomainHarness(environment: reminderEnvironment)
        let services = try harness.services()
        try await harness.setClock(tehran(2024, 12, 5, 10))
        // 25 children (two pages); users for child 3 (50 credits) and child 22 (900 credits).
        let keys = try await children(harness, (0..<25).map { $0 == 3 ? 50 : $0 == 22 ? 900 : 10 })
        try await harness.run(CreditThresholdSetJob(services: services), threshold("a", "t", 100, authKey: keys[3]))
        try await harness.run(CreditThresholdSetJob(services: services), threshold("b", "t", 100, authKey: keys[22]))
        await harness.control.clearRequests()
        try await harness.run(LowCreditReminderJob(services: services), ["tick": 1])
        #expect(try await harness.smsJobs().compactMap { $0.payload["user_id"]?.stringValue } == ["a"])
        let read = try #require(try await harness.events("credit.balances.read").first)
        #expect(read.data["matched"] == 2)
        #expect(await harness.control.requests(to: .brevoGetChild).count == 2, "each auth key resolved once")

        // The next run reads only list pages (no more single-child reads).
        await harness.control.clearRequests()
        try await harness.run(LowCreditReminderJob(services: services), ["tick": 2])
        #expect(await harness.control.requests(to: .brevoGetChild).isEmpty)
        let lists = await harness.control.requests(to: .brevoListChildren)
        #expect(lists.count == 2)
        #expect(lists.allSatisfy { $0.target.contains("limit=20") })
        #expect(try await harness.smsJobs().count == 1, "still below: no second SMS")
    }

    @Test("the hourly budget is respected across runs: reading stops when it is spent")
    func budget() async throws {
        // The budget is per clock hour: keep the test away from an hour boundary.
        let intoHour = Date().timeIntervalSince1970.truncatingRemainder(dividingBy: 3600)
        if intoHour > 3570 { try await Task.sleep(for: .seconds(3601 - intoHour)) }
        let harness = try await DomainHarness(environment: reminderEnvironment.merging(["BREVO_BALANCE_REQUESTS_PER_HOUR": "3"]) { $1 })
        let services = try harness.services()
        try await harness.setClock(tehran(2024, 12, 5, 10))
        let keys = try await children(harness, [10, 10, 10, 10])
        for (index, key) in keys.enumerated() {
            try await harness.run(CreditThresholdSetJob(services: services), threshold("u\(index)", "t", 100, authKey: key))
        }
        await harness.control.clearRequests()
        for tick in 1...3 { try await harness.run(LowCreditReminderJob(services: services), ["tick": .integer(Int64(tick))]) }
        let calls = await harness.control.requests().filter { $0.endpoint == .brevoGetChild || $0.endpoint == .brevoListChildren }
        #expect(calls.count == 3, "3 requests this hour, not more")
        let reads = try await harness.events("credit.balances.read")
        #expect(reads.last?.data["budget_spent"] == true)
        #expect(reads.last?.data["requests"] == 0)
        #expect(try await harness.smsJobs().count == 3, "the three users read within the budget were texted")
    }

    @Test("Brevo 429: pushed balances are still evaluated, the run retries after x-sib-ratelimit-reset")
    func rateLimited() async throws {
        let harness = try await DomainHarness(environment: reminderEnvironment)
        let services = try harness.services()
        try await harness.setClock(tehran(2024, 12, 5, 10))
        let keys = try await children(harness, [10])
        try await harness.run(CreditThresholdSetJob(services: services), threshold("viaBrevo", "t", 100, authKey: keys[0]))
        try await harness.run(CreditThresholdSetJob(services: services), threshold("pushed", "t", 100))
        try await harness.run(CreditBalanceJob(services: services), ["user_id": "pushed", "credits": 1])
        await harness.control.setBrevoRateLimit(limit: 100, remaining: 0, reset: 120)
        let before = Date()
        do {
            try await harness.run(LowCreditReminderJob(services: services), ["tick": 1])
            Issue.record("expected a retry")
        } catch let failure as JobFailure {
            guard case .retry(let at?) = failure.disposition else { Issue.record("\(failure.disposition)"); return }
            #expect(at >= before.timeIntervalSince1970 + 110 && at <= Date().timeIntervalSince1970 + 130)
        }
        #expect(try await harness.smsJobs().compactMap { $0.payload["user_id"]?.stringValue } == ["pushed"])
        #expect(try await harness.events("credit.balances.read").first?.data["error"]?.stringValue?.contains("too_many_requests") == true)
        // Once the window resets, the retry reads Brevo and texts the other user.
        await harness.control.setBrevoRateLimit(limit: 100, remaining: 100, reset: 3600)
        try await harness.run(LowCreditReminderJob(services: services), ["tick": 1])
        #expect(try await harness.smsJobs().compactMap { $0.payload["user_id"]?.stringValue }.sorted() == ["pushed", "viaBrevo"])
    }

    @Test("Brevo 401: one provider.alert, the run parked; an unknown auth key is reported, not fatal")
    func unauthorizedAndUnknownKey() async throws {
        let harness = try await DomainHarness(environment: reminderEnvironment)
        let services = try harness.services()
        try await harness.setClock(tehran(2024, 12, 5, 10))
        try await harness.run(CreditThresholdSetJob(services: services), threshold("ghost", "t", 100, authKey: "xkeysib-nobody"))
        try await harness.run(LowCreditReminderJob(services: services), ["tick": 1])
        #expect(try await harness.events("credit.balance.unmatched").first?.data["user_id"] == "ghost")

        try await harness.run(CreditThresholdSetJob(services: services), threshold("x", "t", 100, authKey: "xkeysib-other"))
        await harness.control.enqueue(.brevo(httpStatus: 401, code: "unauthorized", message: "Key not found"), for: .brevoGetChild)
        do {
            try await harness.run(LowCreditReminderJob(services: services), ["tick": 2])
            Issue.record("expected a failure")
        } catch let failure as JobFailure {
            guard case .retry(let at?) = failure.disposition else { Issue.record("\(failure.disposition)"); return }
            #expect(at > Date().timeIntervalSince1970 + 600, "parked")
        }
        let alerts = try await harness.events("provider.alert")
        #expect(alerts.count == 1)
        #expect(alerts.first?.data["code"] == "unauthorized")
    }

    /// Brevo answers 400 for one user's auth key (not an identifier it takes): that user is reported, the others are
    /// read and texted, and the sweep succeeds. Before, the 400 ended the read for everyone and buried the sweep.
    @Test("an auth key Brevo refuses with 400 is reported for its user; the others are still read")
    func badRequestForOneKey() async throws {
        let harness = try await DomainHarness(environment: reminderEnvironment)
        let services = try harness.services()
        try await harness.setClock(tehran(2024, 12, 5, 10))
        let keys = try await children(harness, [0])
        // Resolved in user order: "a-refused" first, its request answered 400.
        try await harness.run(CreditThresholdSetJob(services: services), threshold("a-refused", "t", 100, authKey: "xkeysib-malformed"))
        try await harness.run(CreditThresholdSetJob(services: services), threshold("b-empty", "t", 100, authKey: keys[0]))
        await harness.control.enqueue(.brevo(httpStatus: 400, code: "invalid_parameter", message: "childIdentifier is invalid"), for: .brevoGetChild)
        try await harness.run(LowCreditReminderJob(services: services), ["tick": 1])
        #expect(try await harness.smsJobs().compactMap { $0.payload["user_id"]?.stringValue } == ["b-empty"])
        let unmatched = try await harness.events("credit.balance.unmatched")
        #expect(unmatched.map { $0.data["user_id"]?.stringValue } == ["a-refused"])
        #expect(unmatched.first?.data["reason"]?.stringValue?.contains("400") == true)
    }

    /// A 404 that is not Brevo's answer (an HTML page: a wrong base path, a proxy) says nothing of the auth key: the
    /// sweep fails for now, no user is reported unmatched. Before, each user's read emitted `credit.balance.unmatched`.
    @Test("a 404 page that is not Brevo's answer reports no user unmatched")
    func aForeign404IsNotAStaleKey() async throws {
        let harness = try await DomainHarness(environment: reminderEnvironment)
        let services = try harness.services()
        try await harness.setClock(tehran(2024, 12, 5, 10))
        let keys = try await children(harness, [0])
        try await harness.run(CreditThresholdSetJob(services: services), threshold("u", "t", 100, authKey: keys[0]))
        await harness.control.enqueue(.reply(FakeReply(status: 404, body: Array("<html><body>Not Found</body></html>".utf8))), for: .brevoGetChild)
        do {
            try await harness.run(LowCreditReminderJob(services: services), ["tick": 1])
            Issue.record("expected the sweep to fail for now")
        } catch let failure as JobFailure {
            guard case .retry = failure.disposition else { Issue.record("\(failure.disposition)"); return }
        }
        #expect(try await harness.events("credit.balance.unmatched").isEmpty)
        // The next sweep, Brevo answering again, reads the user's child (0 credits: below the threshold).
        try await harness.run(LowCreditReminderJob(services: services), ["tick": 2])
        #expect(try await harness.smsJobs().compactMap { $0.payload["user_id"]?.stringValue } == ["u"])
    }

    /// The user's threshold saved with another auth key while the sweep resolved the old one (its `GET
    /// /reseller/children/{key}` held by the fake): the old child's answer (0 credits, below the threshold) is not the
    /// user's balance, fires no SMS and names no email; the next sweep reads the new key's child (500: above).
    @Test("an auth key replaced while the sweep resolves it: the old child's answer is not the user's")
    func authKeyReplacedDuringTheResolve() async throws {
        let harness = try await DomainHarness(environment: reminderEnvironment)
        let services = try harness.services()
        try await harness.setClock(tehran(2024, 12, 5, 10))
        let keys = try await children(harness, [0, 500])
        try await harness.run(CreditThresholdSetJob(services: services), threshold("u", "t", 100, authKey: keys[0]))
        await harness.control.enqueue(.delay(.seconds(2)), for: .brevoGetChild)
        async let sweep: Void = harness.run(LowCreditReminderJob(services: services), ["tick": 1])
        // While the old key's resolve is held: the threshold now names the new key.
        #expect(try await eventually { await harness.control.requests(to: .brevoGetChild).count == 1 }, "the old key's resolve is out")
        try await harness.run(CreditThresholdSetJob(services: services), threshold("u", "t", 100, authKey: keys[1]))
        try await sweep
        let balances = services.key("{credit}:balances")
        #expect(try await harness.redis.send("HGET", balances, "u").isNull, "the old child's credits are not the user's")
        #expect(try await harness.smsJobs().isEmpty, "no low-credit SMS from the old child's 0 credits")
        #expect(try await harness.events("credit.balance.unmatched").isEmpty)

        try await harness.run(LowCreditReminderJob(services: services), ["tick": 2])
        #expect(try await harness.redis.send("HGET", balances, "u").string == "500")
        #expect(try await harness.smsJobs().isEmpty, "above the threshold")
    }

    /// The same, when the old key was resolved before and the sweep reads the children list (its page held by the
    /// fake): the page's balance for the old child (0 credits now) is not written back for a user whose threshold
    /// names another key, and fires no SMS.
    @Test("an auth key replaced while the sweep reads the children list: the old child's balance is not the user's")
    func authKeyReplacedDuringThePageRead() async throws {
        let harness = try await DomainHarness(environment: reminderEnvironment)
        let services = try harness.services()
        try await harness.setClock(tehran(2024, 12, 5, 10))
        let keys = try await children(harness, [500, 500])
        try await harness.run(CreditThresholdSetJob(services: services), threshold("u", "t", 100, authKey: keys[0]))
        try await harness.run(LowCreditReminderJob(services: services), ["tick": 1])  // resolves the old key: 500
        let balances = services.key("{credit}:balances")
        #expect(try await harness.redis.send("HGET", balances, "u").string == "500")
        // The old account spends its credits; the next sweep reads them from the list, whose page is held.
        let old = try #require(await harness.control.brevoChildren().first { $0.email == "user0@example.com" }?.id)
        #expect(await harness.control.setBrevoChildCredits(id: old, sms: 0, email: 0))
        await harness.control.clearRequests()
        await harness.control.enqueue(.delay(.seconds(2)), for: .brevoListChildren)
        async let sweep: Void = harness.run(LowCreditReminderJob(services: services), ["tick": 2])
        #expect(try await eventually { await harness.control.requests(to: .brevoListChildren).count == 1 }, "the page read is out")
        try await harness.run(CreditThresholdSetJob(services: services), threshold("u", "t", 100, authKey: keys[1]))
        try await sweep
        #expect(try await harness.redis.send("HGET", balances, "u").isNull, "the old child's 0 is not the user's")
        #expect(try await harness.smsJobs().isEmpty, "no low-credit SMS from the old account's credits")
    }

    /// A balance read with the threshold's old auth key is the old account's: a new key drops it, so a sweep whose
    /// budget is spent before the new key is read does not evaluate the user against another account's credits.
    @Test("a threshold given another auth key drops the balance read with the old one")
    func anotherAuthKeyDropsTheOldBalance() async throws {
        let harness = try await DomainHarness(environment: reminderEnvironment)
        let services = try harness.services()
        try await harness.setClock(tehran(2024, 12, 5, 10))
        let keys = try await children(harness, [50, 500])
        let balances = services.key("{credit}:balances")
        try await harness.run(CreditThresholdSetJob(services: services), threshold("u", "t", 10, authKey: keys[0]))
        try await harness.run(LowCreditReminderJob(services: services), ["tick": 1])
        #expect(try await harness.redis.send("HGET", balances, "u").string == "50")
        try await harness.run(CreditThresholdSetJob(services: services), threshold("u", "t", 10, authKey: keys[0]))
        #expect(try await harness.redis.send("HGET", balances, "u").string == "50", "the same key again keeps it")
        try await harness.run(CreditThresholdSetJob(services: services), threshold("u", "t", 10, authKey: keys[1]))
        #expect(try await harness.redis.send("HGET", balances, "u").isNull, "another key: the old account's balance goes")
    }

    /// A sweep that finished but could not release its lock (here its key replaced by another type while the sweep's
    /// Brevo call was out) still ends as done: failing it retried the job, which swept again once the lock lapsed.
    @Test("a finished sweep whose lock cannot be released is not failed")
    func aLockThatCannotBeReleasedDoesNotFailTheSweep() async throws {
        let harness = try await DomainHarness(environment: reminderEnvironment)
        let services = try harness.services()
        try await harness.setClock(tehran(2024, 12, 5, 10))
        let keys = try await children(harness, [500])
        try await harness.run(CreditThresholdSetJob(services: services), threshold("u", "t", 100, authKey: keys[0]))
        await harness.control.enqueue(.delay(.seconds(2)), for: .brevoGetChild)
        async let sweep: Void = harness.run(LowCreditReminderJob(services: services), ["tick": 1])
        #expect(try await eventually { await harness.control.requests(to: .brevoGetChild).count == 1 })
        let lock = services.key("{credit}:sweep:lock")
        _ = try await harness.redis.pipeline([RedisCommand("DEL", lock), RedisCommand("HSET", lock, "not", "a lock")])
        try await sweep  // throws on the code before: the release's WRONGTYPE failed the job
        #expect(try await harness.redis.send("HGET", services.key("{credit}:balances"), "u").string == "500", "the sweep's work is kept")
        _ = try await harness.redis.send("DEL", lock)
    }
}

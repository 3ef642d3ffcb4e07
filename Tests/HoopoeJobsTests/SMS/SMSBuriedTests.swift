import Foundation
import HoopoeCore
import HoopoeJSON
@testable import HoopoeJobs
import ProviderFakes
import Providers
import Redis
import TestSupport
import Testing

/// An `sms.send` the engine buries without running it (`killed its worker 2 times`, decision 0079) ends its message:
/// `sms.failed` and a ledger state. Before, a chaos review found 25 of 5,000 so buried with no `sms.failed` and the
/// ledger holding only `unknown_outcomes=1`: `job.dead`, the only trace, has no `message_id`.
@Suite(.serialized) struct SMSBuriedTests {
    let morning = SMSTest.tehran(2024, 11, 23, 10)

    /// Makes each job on the queue look as one whose worker was lost while running it twice: delivered twice to
    /// consumers that are gone, its second run marked as started after a recovery.
    private func loseTwice(_ harness: DomainHarness, count: Int) async throws {
        let keys = harness.jobs.keys("default")
        _ = try? await harness.redis.send("XGROUP", "CREATE", keys.stream, "workers", "0", "MKSTREAM")
        let read = try await harness.redis.send(RedisCommand("XREADGROUP", ["GROUP", "workers", "lost-1", "COUNT", "100", "STREAMS", keys.stream, ">"]))
        let entries = (read.array?.first?.array?.last?.array ?? []).compactMap { $0.array?.first?.string }
        #expect(entries.count == count)
        for entry in entries {
            _ = try await harness.redis.send("XCLAIM", keys.stream, "workers", "lost-2", "0", entry)
            _ = try await harness.redis.send("HSET", keys.recoveredRuns, entry, "1")
        }
    }

    private func enqueue(_ harness: DomainHarness, _ payload: SMSSendPayload, id: String) async throws {
        let json = try #require(JSONValue.parse(Array(try JSONEncoder().encode(payload))))
        try await harness.enqueue(SMSSendJob.type, json, options: EnqueueOptions(id: id))
    }

    /// A message whose send was under way when its worker was lost (its note written, no answer) ends `unknown`, its
    /// daily slot kept, as after a lost answer on the last attempt; one that had sent nothing ends `failed`, its slot
    /// given back. One `sms.failed` each, nothing sent, and a `hoopoe dead retry` ends without sending, as for every
    /// message given up.
    @Test func aMessageBuriedByTheKillRuleEndsWithSmsFailedAndItsLedgerState() async throws {
        let harness = try await DomainHarness()
        try await harness.setClock(morning)
        let services = try harness.services()
        let ledger = SMSLedger(services: services)
        let underWay = SMSTest.reminder("buried:under-way")
        let unsent = SMSTest.reminder("buried:unsent")
        let day = SMSSendJob.dayString(morning, calendar: services.calendar)
        // The lost runs: each took a daily slot; the first noted a send to Kavenegar and held the lock when it died.
        for payload in [underWay, unsent] {
            #expect(try await ledger.reserveDailySlot(phone: "09121234567", day: day, messageID: payload.messageID, cap: 5))
        }
        #expect(try await ledger.lock(underWay.messageID, token: "job-under-way:2"))
        #expect(try await ledger.noteUnknownOutcome(underWay.messageID, provider: "kavenegar", attemptStartedAt: Date(), template: underWay.template) == 1)
        try await enqueue(harness, underWay, id: "job-under-way")
        try await enqueue(harness, unsent, id: "job-unsent")
        try await loseTwice(harness, count: 2)

        let worker = try await harness.startWorker(["--concurrency", "4", "--lease", "1"])
        let failed = try await harness.waitForEvents("sms.failed", count: 2, timeout: .seconds(30))
        let reasons = Dictionary(failed.map { ($0.data["message_id"]?.stringValue ?? "", $0.data["reason"]?.stringValue ?? "") }) { first, _ in first }
        let killed = "killed its worker 2 times (lease expired while it ran)"
        #expect(reasons[underWay.messageID] == "outcome unknown: the engine buried its job (\(killed)) while a send was under way; not sent again (it may have been delivered)")
        #expect(reasons[unsent.messageID] == "not sent: the engine buried its job (\(killed)); it is not run again")
        #expect(failed.allSatisfy { $0.data["user_id"]?.stringValue == "42" && $0.data["purpose"]?.stringValue == "reminder.expiration" })

        let a = try #require(try await ledger.record(underWay.messageID))
        #expect(a.state == "unknown" && a.announced && a.unknownOutcomes == 1 && a.unreconciledProvider == "kavenegar")
        let b = try #require(try await ledger.record(unsent.messageID))
        #expect(b.state == "failed" && b.announced)
        let slots = Set((try await harness.redis.send("SMEMBERS", ledger.capKey(phone: "09121234567", day: day)).array ?? []).compactMap(\.string))
        #expect(slots == [underWay.messageID], "the unsent message gave its slot back; the one that may have gone out kept it")
        let dead = try await harness.dead()
        #expect(Set(dead.map(\.id)) == ["job-under-way", "job-unsent"] && dead.allSatisfy { $0.deadReason == killed })

        // Retried from the dead set: the run finds the message given up and ends, sending nothing, announcing nothing again.
        #expect(try await harness.jobs.retryDead(id: "job-unsent", queue: "default"))
        try await harness.waitUntilIdle()
        #expect(try await eventually(timeout: .seconds(20)) { (try await harness.jobs.counters(queue: "default"))["processed"] == 1 })
        try await Task.sleep(for: .milliseconds(500))
        #expect(try await harness.events("sms.failed").count == 2)
        #expect(try await harness.events("sms.sent").isEmpty)
        #expect(await harness.control.requests(to: .kavenegarLookup).isEmpty)
        #expect(await harness.control.requests(to: .ippanelSend).isEmpty)
        await SMSTest.stop(worker)
    }

    /// The hook itself, called twice for one message (a second worker burying a copy) or for one a run settled: no
    /// second `sms.failed`, no state overwritten.
    @Test func theHookOnASettledMessageWritesNothingButAMissingEvent() async throws {
        let harness = try await DomainHarness()
        try await harness.setClock(morning)
        let services = try harness.services()
        let ledger = SMSLedger(services: services)
        let job = SMSSendJob(services: services)
        let sent = SMSTest.reminder("settled:sent")
        try await ledger.recordSent(messageID: sent.messageID, provider: "kavenegar", providerIDs: ["77"], sentAt: morning, userID: "42", purpose: "reminder.expiration")
        try await job.buried(sent, reason: "killed its worker 2 times", context: harness.context(type: SMSSendJob.type, id: "job-sent"))
        #expect(try await ledger.record(sent.messageID)?.state == "sent")
        #expect(try await harness.events("sms.sent").count == 1, "the sms.sent its lost run did not emit")
        #expect(try await harness.events("sms.failed").isEmpty)

        let twice = SMSTest.reminder("settled:twice")
        for _ in 0..<2 {
            try await job.buried(twice, reason: "killed its worker 2 times", context: harness.context(type: SMSSendJob.type, id: "job-twice"))
        }
        #expect(try await harness.events("sms.failed").count == 1)
        #expect(try await harness.events("sms.sent").count == 1)

        // Another job of the message holds its lock (sending now): the message is left to it.
        let other = SMSTest.reminder("settled:other")
        #expect(try await ledger.lock(other.messageID, token: "job-other-copy:1"))
        try await job.buried(other, reason: "killed its worker 2 times", context: harness.context(type: SMSSendJob.type, id: "job-other"))
        #expect(try await ledger.record(other.messageID) == nil)
        #expect(try await harness.events("sms.failed").count == 1)
    }

    /// Kavenegar's outbox closed (`407`) to the check of a lost send: the re-send went out unchecked and its answer said
    /// it failed (`409`, taking its own mark back). The lost send may still have gone out, so a burial now ends the
    /// message `unknown`, its daily slot kept. Before, the 407 path cleared the lost send's note before the re-send's
    /// mark: a burial in between, or after that mark was taken back, found neither and wrote `failed` ("not sent") and
    /// gave the slot back.
    @Test func aBurialAfterAnUncheckedResendSaysTheOutcomeIsUnknown() async throws {
        let harness = try await DomainHarness(environment: ["SMS_PROVIDERS": "kavenegar"])
        try await harness.setClock(morning)
        let services = try harness.services()
        let ledger = SMSLedger(services: services)
        let job = SMSSendJob(services: services)
        let payload = SMSTest.reminder("buried:unchecked")
        let day = SMSSendJob.dayString(morning, calendar: services.calendar)
        // The lost run: its slot taken, its send to Kavenegar noted and never answered.
        #expect(try await ledger.reserveDailySlot(phone: "09121234567", day: day, messageID: payload.messageID, cap: 5))
        #expect(try await ledger.noteUnknownOutcome(
            payload.messageID, provider: "kavenegar", attemptStartedAt: Date().addingTimeInterval(-30), template: payload.template) == 1)
        await harness.control.enqueue(.kavenegar(code: 407), for: .kavenegarSelectOutbox)
        await harness.control.enqueue(.kavenegar(code: 409), for: .kavenegarLookup)

        let failure = try await harness.failure(of: job, payload, id: "job-unchecked", attempt: 2, maxAttempts: 12)
        #expect(failure != nil && failure?.deferredTo == nil, "retried: \(String(describing: failure))")
        #expect(await harness.control.requests(to: .kavenegarLookup).count == 1, "the one unchecked re-send")

        try await job.buried(payload, reason: "killed its worker 2 times", context: harness.context(type: SMSSendJob.type, id: "job-unchecked"))
        let record = try #require(try await ledger.record(payload.messageID))
        #expect(record.state == "unknown" && record.announced, "\(record)")
        let failed = try await harness.events("sms.failed")
        #expect(failed.count == 1)
        #expect(failed.first?.data["reason"]?.stringValue?.hasPrefix("outcome unknown: the engine buried its job") == true, "\(failed.map(\.data))")
        let slots = Set((try await harness.redis.send("SMEMBERS", ledger.capKey(phone: "09121234567", day: day)).array ?? []).compactMap(\.string))
        #expect(slots == [payload.messageID], "the slot is kept: the message may have gone out")
    }

    /// The same unchecked re-send refused for good (Kavenegar `411`): the run gives the message up as a burial would —
    /// `unknown`, its slot kept, `sms.failed` saying the earlier send may have been delivered. It wrote `failed` ("not
    /// sent") and gave the slot back, while the lost send may have gone out.
    @Test func aRunGivingUpAfterAnUncheckedResendSaysTheOutcomeIsUnknown() async throws {
        let harness = try await DomainHarness(environment: ["SMS_PROVIDERS": "kavenegar"])
        try await harness.setClock(morning)
        let services = try harness.services()
        let ledger = SMSLedger(services: services)
        let payload = SMSTest.reminder("run:unchecked")
        let day = SMSSendJob.dayString(morning, calendar: services.calendar)
        #expect(try await ledger.reserveDailySlot(phone: "09121234567", day: day, messageID: payload.messageID, cap: 5))
        #expect(try await ledger.noteUnknownOutcome(
            payload.messageID, provider: "kavenegar", attemptStartedAt: Date().addingTimeInterval(-30), template: payload.template) == 1)
        await harness.control.enqueue(.kavenegar(code: 407), for: .kavenegarSelectOutbox)
        await harness.control.enqueue(.kavenegar(code: 411), for: .kavenegarLookup)

        let failure = try await harness.failure(of: SMSSendJob(services: services), payload, id: "job-run-unchecked", attempt: 2, maxAttempts: 12)
        #expect(failure != nil)
        let record = try #require(try await ledger.record(payload.messageID))
        #expect(record.state == "unknown" && record.announced, "\(record)")
        let failed = try await harness.events("sms.failed")
        #expect(failed.count == 1)
        #expect(failed.first?.data["reason"]?.stringValue?.contains("may have been delivered") == true, "\(failed.map(\.data))")
        let slots = Set((try await harness.redis.send("SMEMBERS", ledger.capKey(phone: "09121234567", day: day)).array ?? []).compactMap(\.string))
        #expect(slots == [payload.messageID], "the slot is kept: the message may have gone out")
    }

    /// Two `sms.delivery_poll` runs that overlap (the type's page allows it) emit an owed `sms.failed` once: each
    /// claims what it emits. Read without a claim, both found it unannounced and both emitted it.
    @Test func overlappingPollsEmitAnOwedSmsFailedOnce() async throws {
        let harness = try await DomainHarness()
        try await harness.setClock(morning)
        let services = try harness.services()
        let ledger = SMSLedger(services: services)
        let payload = SMSTest.reminder("buried:owed-twice")
        try await ledger.recordGivenUp(messageID: payload.messageID, state: "failed", reason: "not sent: test", userID: "42", purpose: "reminder.expiration")
        try await harness.setClock(morning.addingTimeInterval(10 * 60))
        let now = morning.addingTimeInterval(10 * 60)
        let first = try await ledger.claimOwedFailures(before: now, limit: 10, leaseUntil: now.addingTimeInterval(600))
        let second = try await ledger.claimOwedFailures(before: now, limit: 10, leaseUntil: now.addingTimeInterval(600))
        #expect(first == [payload.messageID] && second.isEmpty, "claimed once while its lease stands: \(first) \(second)")
        // The claim lapses (the poll that took it died): a later poll emits it, once, however many run at once.
        try await harness.setClock(morning.addingTimeInterval(30 * 60))
        let poll = SMSDeliveryPollJob(services: services)
        async let one = harness.failure(of: poll, .init(tick: 1))
        async let two = harness.failure(of: poll, .init(tick: 2))
        _ = try await (one, two)
        #expect(try await harness.events("sms.failed").count == 1)
        #expect(try await ledger.record(payload.messageID)?.announced == true)
    }

    /// The burial's `sms.failed` write fails (the events stream unwritable) after the give-up: the hook throws, and the
    /// worker only logs it — nothing runs a buried job again. `sms.delivery_poll` emits the owed event once the hook's
    /// time is up, once: neither a later poll, a second burial nor a `hoopoe dead retry` of the job writes another.
    @Test func aBurialsLostSmsFailedIsEmittedOnceByTheDeliveryPoll() async throws {
        let harness = try await DomainHarness()
        try await harness.setClock(morning)
        let services = try harness.services()
        let ledger = SMSLedger(services: services)
        let job = SMSSendJob(services: services)
        let payload = SMSTest.reminder("buried:lost-event")
        let events = "\(harness.namespace):events"
        try await harness.redis.send("SET", events, "not a stream")
        await #expect(throws: (any Error).self) {
            try await job.buried(payload, reason: "killed its worker 2 times", context: harness.context(type: SMSSendJob.type, id: "job-lost-event"))
        }
        let given = try #require(try await ledger.record(payload.messageID))
        #expect(given.state == "failed" && !given.announced)
        try await harness.redis.send("DEL", events)

        let poll = SMSDeliveryPollJob(services: services)
        #expect(try await harness.failure(of: poll, .init(tick: 1)) == nil)
        #expect(try await harness.events("sms.failed").isEmpty, "not while the hook may still be writing it")
        try await harness.setClock(morning.addingTimeInterval(10 * 60))  // past SMSSettings.owedFailureGrace (5 minutes)
        #expect(try await harness.failure(of: poll, .init(tick: 2)) == nil)
        let failed = try await harness.events("sms.failed")
        #expect(failed.count == 1)
        #expect(failed.first?.data["message_id"]?.stringValue == payload.messageID)
        #expect(failed.first?.data["reason"]?.stringValue == "not sent: the engine buried its job (killed its worker 2 times); it is not run again")
        #expect(failed.first?.data["user_id"]?.stringValue == "42" && failed.first?.data["purpose"]?.stringValue == "reminder.expiration")
        #expect(try await ledger.record(payload.messageID)?.announced == true)

        #expect(try await harness.failure(of: poll, .init(tick: 3)) == nil)
        try await job.buried(payload, reason: "killed its worker 2 times", context: harness.context(type: SMSSendJob.type, id: "job-lost-event"))
        #expect(try await harness.failure(of: job, payload, id: "job-lost-event") == nil)
        #expect(try await harness.events("sms.failed").count == 1, "announced once")
        #expect(await harness.control.requests(to: .kavenegarLookup).isEmpty)
    }

    /// A run gives up (Kavenegar `411`, permanent) and its `sms.failed` write fails. On an early attempt the job's retry
    /// emits it; on the last one the job goes to the dead set, and the engine does not tell a handler that threw there
    /// (no burial hook): `sms.delivery_poll` emits it, once. Before, it was never emitted.
    @Test func aLastAttemptsLostSmsFailedIsEmittedOnceByTheDeliveryPoll() async throws {
        let harness = try await DomainHarness(environment: ["SMS_PROVIDERS": "kavenegar"])
        try await harness.setClock(morning)
        let services = try harness.services()
        let job = SMSSendJob(services: services)
        let poll = SMSDeliveryPollJob(services: services)
        let last = SMSTest.reminder("given-up:last")
        let early = SMSTest.reminder("given-up:early")
        let events = "\(harness.namespace):events"
        try await harness.redis.send("SET", events, "not a stream")
        for (payload, attempt) in [(last, 12), (early, 1)] {
            await harness.control.enqueue(.kavenegar(code: 411, message: "invalid receptor"), for: .kavenegarLookup)
            await #expect(throws: (any Error).self) { try await harness.failure(of: job, payload, id: "job-\(payload.messageID)", attempt: attempt, maxAttempts: 12) }
        }
        try await harness.redis.send("DEL", events)
        // The early one's retry announces it.
        #expect(try await harness.failure(of: job, early, id: "job-\(early.messageID)", attempt: 2, maxAttempts: 12) == nil)
        #expect(try await harness.events("sms.failed").map { $0.data["message_id"]?.stringValue } == [early.messageID])

        #expect(try await harness.failure(of: poll, .init(tick: 1)) == nil)
        #expect(try await harness.events("sms.failed").count == 1, "not while the run may still be writing it")
        try await harness.setClock(morning.addingTimeInterval(10 * 60))  // past SMSSettings.owedFailureGrace (5 minutes)
        #expect(try await harness.failure(of: poll, .init(tick: 2)) == nil)
        #expect(try await harness.failure(of: poll, .init(tick: 3)) == nil)
        let failed = try await harness.events("sms.failed")
        #expect(failed.map { $0.data["message_id"]?.stringValue } == [early.messageID, last.messageID], "each once")
        #expect(failed.last?.data["reason"]?.stringValue?.contains("[411]") == true && failed.last?.data["user_id"]?.stringValue == "42")
        #expect(await harness.control.requests(to: .kavenegarLookup).count == 2)
    }
}

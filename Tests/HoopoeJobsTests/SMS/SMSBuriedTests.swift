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
}

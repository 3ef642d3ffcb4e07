import Foundation
import HoopoeCore
import HoopoeJSON
@testable import HoopoeJobs
import ProviderFakes
import Providers
import Redis
import TestSupport
import Testing

/// `sms.send` end to end: a real worker process, the test Redis, the fake Kavenegar and IPPanel, a domain clock the
/// test sets (10:00 Tehran unless a test is about quiet hours).
@Suite(.serialized) struct SMSSendTests {
    let morning = SMSTest.tehran(2024, 11, 23, 10)

    /// One lookup with the right template and tokens, `sms.sent`, nothing polled before 5 minutes, then
    /// `sms.status delivered` after polling.
    @Test func happyPathSendsOnceThenPollsToDelivered() async throws {
        let harness = try await DomainHarness()
        try await harness.setClock(morning)
        let worker = try await harness.startWorker()
        let payload = SMSTest.reminder()
        #expect(try await payload.enqueue(on: harness.jobs).createdID != nil)

        let sent = try await harness.waitForEvents("sms.sent")
        let lookups = await SMSTest.forms(harness, .kavenegarLookup)
        #expect(lookups.count == 1)
        #expect(lookups.first == [
            "receptor": "09121234567", "template": "expiration-reminder", "token10": "Sara Ahmadi", "token": "3",
            "token2": "1403/10/12", "token3": "https://kamva.ir/email/receipt/981",
        ])
        let event = try #require(sent.first).data
        #expect(event["message_id"]?.stringValue == payload.messageID)
        #expect(event["provider"]?.stringValue == "kavenegar")
        #expect(event["user_id"]?.stringValue == "42")
        #expect(event["purpose"]?.stringValue == "reminder.expiration")
        let providerIDs = event["provider_message_ids"]?.arrayValue?.compactMap(\.stringValue) ?? []
        #expect(providerIDs.count == 1)
        #expect(await harness.control.requests(to: .ippanelSend).isEmpty)

        // One minute later: not due yet.
        try await harness.setClock(morning.addingTimeInterval(60))
        try await SMSTest.poll(harness)
        #expect(await harness.control.requests(to: .kavenegarStatus).isEmpty)
        // Five minutes: first poll, still with the operator (status 4): no event.
        try await harness.setClock(morning.addingTimeInterval(300))
        try await SMSTest.poll(harness)
        let firstPoll = await SMSTest.forms(harness, .kavenegarStatus)
        #expect(firstPoll.map { $0["messageid"] } == [providerIDs.first])
        #expect(try await harness.events("sms.status").isEmpty)
        // Backoff: polled again 5 minutes later, not before.
        try await harness.setClock(morning.addingTimeInterval(540))
        try await SMSTest.poll(harness)
        #expect(await harness.control.requests(to: .kavenegarStatus).count == 1)
        try await harness.setClock(morning.addingTimeInterval(600))
        try await SMSTest.poll(harness)
        let statuses = try await harness.waitForEvents("sms.status")
        #expect(statuses.count == 1)
        let status = try #require(statuses.first).data
        #expect(status == [
            "message_id": .string(payload.messageID), "provider": "kavenegar", "state": "delivered", "raw_status": "10",
        ])
        // Final: never polled again.
        try await harness.setClock(morning.addingTimeInterval(7200))
        try await SMSTest.poll(harness)
        #expect(await harness.control.requests(to: .kavenegarStatus).count == 2)
        await SMSTest.stop(worker)
    }

    /// Kavenegar `409` (retry) → the IPPanel pattern, with placeholders filled from the tokens; polled there.
    @Test func retryableKavenegarFailureFallsBackToIPPanel() async throws {
        let harness = try await DomainHarness()
        try await harness.setClock(morning)
        await harness.control.enqueue(.kavenegar(code: 409), for: .kavenegarLookup)
        await harness.control.setIPPanelLifecycle(bulkStates: [6], recipientStatuses: ["2"])
        let worker = try await harness.startWorker()
        try await SMSTest.reminder().enqueue(on: harness.jobs)

        let sent = try #require(try await harness.waitForEvents("sms.sent").first).data
        #expect(sent["provider"]?.stringValue == "ippanel")
        #expect(await harness.control.requests(to: .kavenegarLookup).count == 1)
        let sends = await harness.control.requests(to: .ippanelSend)
        #expect(sends.count == 1)
        let body = try #require(JSONValue.parse(sends[0].body))
        #expect(body["sending_type"]?.stringValue == "pattern")
        #expect(body["code"]?.stringValue == "PLACEHOLDER-expiration-reminder")
        #expect(body["recipients"] == ["+989121234567"])
        #expect(body["params"] == ["name": "Sara Ahmadi", "days": "3", "date": "1403/10/12", "link": "https://kamva.ir/email/receipt/981"])
        #expect(try await harness.events("provider.alert").isEmpty)

        try await harness.setClock(morning.addingTimeInterval(300))
        try await SMSTest.poll(harness)
        let status = try #require(try await harness.waitForEvents("sms.status").first).data
        #expect(status["provider"]?.stringValue == "ippanel")
        #expect(status["state"]?.stringValue == "delivered")
        await SMSTest.stop(worker)
    }

    /// Kavenegar at `kavenegarBaseURL` fails before its request is written: IPPanel takes the message in the job's first
    /// run (processed, never retried), and nothing counts as an outcome to find out.
    private func expectIPPanelTakesTheMessageInTheFirstRun(kavenegarBaseURL: String) async throws {
        let harness = try await DomainHarness(environment: ["KAVENEGAR_BASE_URL": kavenegarBaseURL])
        try await harness.setClock(morning)
        await harness.control.setIPPanelLifecycle(bulkStates: [6], recipientStatuses: ["2"])
        let worker = try await harness.startWorker()
        try await SMSTest.reminder().enqueue(on: harness.jobs)

        // After the lookup's connect timeout (5 s): the pool keeps trying to connect until then.
        let found = try? await harness.waitForEvents("sms.sent", timeout: .seconds(40))
        let sent = try #require(found?.first, "\(worker.output)").data
        #expect(sent["provider"]?.stringValue == "ippanel")
        #expect(await harness.control.requests(to: .ippanelSend).count == 1)
        // Processed in that first run, never retried (the counters land with the acknowledgement, just after the event).
        var counters: [String: Int] = [:]
        let processed = try await eventually {
            counters = try await harness.jobs.counters(queue: "default")
            return counters["processed"] == 1
        }
        #expect(processed && counters["retried"] == nil, "\(counters)")
        let record = try await SMSLedger(services: harness.services()).record(SMSTest.reminder().messageID)
        #expect(record?.unknownOutcomes == 0, "nothing was sent to Kavenegar: no outcome to find out")
        await SMSTest.stop(worker)
    }

    /// Kavenegar unreachable (nothing listens: the request never left) → IPPanel takes the message in the same run.
    /// Before, every transport failure of a lookup was "outcome unknown": no fallback, a retry a minute later to read
    /// Kavenegar's outbox, unreachable too, until the job was buried without `sms.failed`.
    @Test func anUnreachableKavenegarFallsBackToIPPanelInTheSameRun() async throws {
        try await expectIPPanelTakesTheMessageInTheFirstRun(kavenegarBaseURL: "http://127.0.0.1:\(try RedisServer.freePort())")
    }

    /// Kavenegar's TLS handshake fails (here a certificate no system CA signed; in production an expired one, an
    /// intercepting egress proxy): the request was never written, so IPPanel takes the message in the same run. It was
    /// "outcome unknown": no fallback, hourly outbox checks that failed the same way, and `unknown` after six hours.
    @Test func aKavenegarWhoseTLSHandshakeFailsFallsBackToIPPanelInTheSameRun() async throws {
        let untrusted = try RedisServer(tls: try await TLSCertificates.shared())  // any TLS listener with a certificate the client refuses
        try await expectIPPanelTakesTheMessageInTheFirstRun(kavenegarBaseURL: "https://127.0.0.1:\(untrusted.port)")
    }

    /// An IPPanel bulk rejected by its moderation (state 3): docs/providers.md §3.5 says ALERT for a standard template, and
    /// every send here is a pattern. The message fails (not sent again) and an operator is told; it was a quiet `failed`.
    @Test func anIPPanelBulkRejectedByModerationRaisesAnAlert() async throws {
        let harness = try await DomainHarness()
        try await harness.setClock(morning)
        let worker = try await harness.startWorker()
        await harness.control.enqueue(.kavenegar(code: 409), for: .kavenegarLookup)
        await harness.control.setIPPanelLifecycle(bulkStates: [3], recipientStatuses: ["3"])
        try await SMSTest.reminder().enqueue(on: harness.jobs)
        #expect(try await harness.waitForEvents("sms.sent").first?.data["provider"]?.stringValue == "ippanel")
        try await harness.setClock(morning.addingTimeInterval(300))
        try await SMSTest.poll(harness)
        let status = try #require(try await harness.waitForEvents("sms.status").first).data
        #expect(status["state"]?.stringValue == "failed" && status["raw_status"]?.stringValue == "state_id:3", "\(status)")
        let alert = try #require(try await harness.waitForEvents("provider.alert").first).data
        #expect(alert["provider"]?.stringValue == "ippanel" && alert["code"]?.stringValue == "state_id:3", "\(alert)")
        #expect(alert["message"]?.stringValue?.contains("moderation") == true)
        #expect(try await SMSTest.scheduled(harness).filter { $0.envelope.type == SMSSendJob.type }.isEmpty, "not sent again")
        await SMSTest.stop(worker)
    }

    /// Sends through IPPanel (Kavenegar answers 409 once), whose bulk ends in state 8 (no credit: IPPanel's only word
    /// that the account is empty), and polls it: `sms.status failed` and a `provider.alert`, not a quiet failure.
    /// Returns the re-send the poll planned, with its due time.
    private func sendThroughAnIPPanelBulkThatEndsUnsent(_ harness: DomainHarness) async throws -> (envelope: JobEnvelope, due: Double) {
        await harness.control.enqueue(.kavenegar(code: 409), for: .kavenegarLookup)
        await harness.control.setIPPanelLifecycle(bulkStates: [8], recipientStatuses: ["2"])
        try await SMSTest.reminder().enqueue(on: harness.jobs)
        let first = try #require(try await harness.waitForEvents("sms.sent").first).data
        #expect(first["provider"]?.stringValue == "ippanel")

        try await harness.setClock(morning.addingTimeInterval(300))
        try await SMSTest.poll(harness)
        let status = try #require(try await harness.waitForEvents("sms.status").first).data
        #expect(status["state"]?.stringValue == "failed" && status["raw_status"]?.stringValue == "state_id:8", "\(status)")
        let alert = try #require(try await harness.waitForEvents("provider.alert").first).data
        #expect(alert["provider"]?.stringValue == "ippanel" && alert["code"]?.stringValue == "state_id:8", "\(alert)")
        #expect(alert["message"]?.stringValue?.contains("no credit") == true && alert["message"]?.stringValue?.contains("sent again") == true)
        let resends = try await SMSTest.scheduled(harness).filter {
            $0.envelope.type == SMSSendJob.type && $0.envelope.payload["message_id"]?.stringValue == SMSTest.reminder().messageID
        }
        return try #require(resends.count == 1 ? resends.first : nil, "one re-send planned: \(resends.map(\.envelope.id))")
    }

    /// Runs a scheduled `sms.send` now, in this process, under its own id (the worker would run it at its time).
    private static func run(_ envelope: JobEnvelope, _ harness: DomainHarness) async throws {
        let payload = try JSONDecoder().decode(SMSSendPayload.self, from: JSONEncoder().encode(envelope.payload))
        let failure = try await harness.failure(of: SMSSendJob(services: harness.services()), payload, id: envelope.id)
        #expect(failure == nil, "the re-send ended \(String(describing: failure))")
    }

    /// A bulk IPPanel ends unsent is sent again (providers.md §3.5: "resend after top-up"), after the alert's park
    /// time, through the providers in order (Kavenegar first): two `sms.sent` for one message, one of them delivered.
    @Test func anIPPanelBulkEndingWithoutCreditIsSentAgain() async throws {
        let harness = try await DomainHarness()
        try await harness.setClock(morning)
        let worker = try await harness.startWorker()
        let resend = try await sendThroughAnIPPanelBulkThatEndsUnsent(harness)
        #expect((840...960).contains(resend.due - Date().timeIntervalSince1970), "after the alert's 15 minutes: \(resend.due)")
        let ledger = SMSLedger(services: try harness.services())
        let failed = try #require(try await ledger.record(SMSTest.reminder().messageID))
        #expect(failed.resendJob == resend.envelope.id && failed.resends == 1 && failed.resendPayload == nil, "the payload goes once final")

        // The 15 minutes pass: the planned job runs (here in this process, under its own id).
        try await Self.run(resend.envelope, harness)
        let sent = try await harness.waitForEvents("sms.sent", count: 2)
        #expect(sent.last?.data["provider"]?.stringValue == "kavenegar")
        #expect(await harness.control.requests(to: .kavenegarLookup).count == 2)
        #expect(await harness.control.ippanelBulkCount() == 1)
        let record = try #require(try await ledger.record(SMSTest.reminder().messageID))
        #expect(record.state == "sent" && record.provider == "kavenegar" && record.resendJob == nil && record.resends == 1)
        #expect(try await harness.events("sms.failed").isEmpty)
        await SMSTest.stop(worker)
    }

    /// A re-send planned for a bulk IPPanel ended unsent sends nothing once the message is cancelled (its subscription
    /// renewed, its gift used) in between.
    @Test func aPlannedResendOfACancelledMessageSendsNothing() async throws {
        let harness = try await DomainHarness()
        try await harness.setClock(morning)
        let worker = try await harness.startWorker()
        let resend = try await sendThroughAnIPPanelBulkThatEndsUnsent(harness)
        let ledger = SMSLedger(services: try harness.services())
        #expect(try await ledger.cancel(SMSTest.reminder().messageID, reason: "renewed") == false, "it has a state: sent")

        try await Self.run(resend.envelope, harness)
        #expect(try await harness.events("sms.sent").count == 1)
        #expect(try await ledger.record(SMSTest.reminder().messageID)?.state == "sent", "not reopened")
        #expect(await harness.control.requests(to: .kavenegarLookup).count == 1)
        await SMSTest.stop(worker)
    }

    /// Kavenegar `418` (credit, ALERT) → one `provider.alert`, and the message still goes out through IPPanel.
    @Test func alertRaisesProviderAlertAndFallsBack() async throws {
        let harness = try await DomainHarness()
        try await harness.setClock(morning)
        await harness.control.enqueue(.kavenegar(code: 418), for: .kavenegarLookup)
        let worker = try await harness.startWorker()
        try await SMSTest.reminder().enqueue(on: harness.jobs)

        let sent = try #require(try await harness.waitForEvents("sms.sent").first).data
        #expect(sent["provider"]?.stringValue == "ippanel")
        let alerts = try await harness.waitForEvents("provider.alert")
        #expect(alerts.count == 1)
        #expect(alerts.first?.data["provider"]?.stringValue == "kavenegar")
        #expect(alerts.first?.data["code"]?.stringValue == "418")
        await SMSTest.stop(worker)
    }

    /// Every provider raises an alert (Kavenegar `418` credit, IPPanel `401` key): the message is parked without burning
    /// an attempt — deferred as a new job to the quarter hour nearest 15 minutes on — even on the job's last attempt; after a
    /// day of parks they count, so it still ends. Before, each park was a counted retry: 12 attempts in under 3 hours.
    @Test func aMessageEveryProviderAlertsOnIsParkedWithoutBurningAttempts() async throws {
        let harness = try await DomainHarness()
        try await harness.setClock(morning)
        let services = try harness.services()
        let payload = SMSTest.reminder("parked-1")
        await harness.control.enqueue(.kavenegar(code: 418), for: .kavenegarLookup)
        await harness.control.enqueue(.ippanel(httpStatus: 401, messageCode: "401-1"), for: .ippanelSend)
        let failure = try await harness.failure(of: SMSSendJob(services: services), payload, id: "job-last", attempt: 25)
        #expect(failure?.deferredTo != nil, "ended deferred, no attempt burnt: \(String(describing: failure))")
        let parked = try await SMSTest.scheduled(harness).filter { $0.envelope.payload["message_id"]?.stringValue == "parked-1" }
        #expect(parked.count == 1 && parked.first?.envelope.id == failure?.deferredTo)
        #expect(parked.first?.envelope.attempt == 0, "the parked job starts its attempts afresh")
        let wait = (parked.first?.due ?? 0) - Date().timeIntervalSince1970
        #expect((450 - 60...1350 + 5).contains(wait), "parked to the quarter hour nearest 15 min on: \(wait) s")
        #expect(try await harness.events("sms.failed").isEmpty)
        #expect(try await SMSLedger(services: services).record("parked-1")?.state == nil, "not given up")

        // Parked for more than a day: the park counts, and on the last attempt the message fails.
        try await harness.redis.send("HSET", SMSLedger(services: services).messageKey("parked-1"), "alert_parked_since", String(Date().timeIntervalSince1970 - 86_401))
        await harness.control.enqueue(.kavenegar(code: 418), for: .kavenegarLookup)
        await harness.control.enqueue(.ippanel(httpStatus: 401, messageCode: "401-1"), for: .ippanelSend)
        let last = try await harness.failure(of: SMSSendJob(services: services), payload, id: "job-after-a-day", attempt: 25)
        #expect(last?.disposition == .permanent, "\(String(describing: last))")
        #expect(try await harness.events("sms.failed").count == 1)
    }

    /// Two copies of a parked message (the original run again after its settle was lost, in the next quarter hour) meet
    /// on one grid point within a park and become one job: the copy parked first parks again to the point the other
    /// parked to. With the first quarter hour a full delay on, they alternated points for the whole day.
    @Test func twoParkedCopiesOfAMessageBecomeOne() async throws {
        let harness = try await DomainHarness()
        let services = try harness.services()
        let grid = (morning.timeIntervalSince1970 / 900).rounded(.down) * 900  // 10:00 Tehran is on the quarter-hour grid
        /// Runs the job `id` at domain time `seconds`, every provider alerting: the job it parked to, and when that is
        /// due in domain time.
        func park(at seconds: Double, id: String) async throws -> (id: String, due: Double) {
            try await harness.setClock(Date(timeIntervalSince1970: seconds))
            await harness.control.enqueue(.kavenegar(code: 418), for: .kavenegarLookup)
            await harness.control.enqueue(.ippanel(httpStatus: 401, messageCode: "401-1"), for: .ippanelSend)
            let before = Date().timeIntervalSince1970
            let parked = try #require(try await harness.failure(of: SMSSendJob(services: services), SMSTest.reminder("two-copies"), id: id)?.deferredTo)
            let job = try #require(try await SMSTest.scheduled(harness).first { $0.envelope.id == parked })
            return (parked, (seconds + job.due - before).rounded())
        }
        let first = try await park(at: grid + 10, id: "original")
        let rerun = try await park(at: grid + 910, id: "original")  // the original again, a quarter hour later
        #expect(first.id != rerun.id, "two copies, each parked to its own point")
        let again = try await park(at: first.due + 5, id: first.id)  // the first copy runs at its point and parks again
        #expect(again.id == rerun.id, "it parks to the point the other copy waits at: one job (\(first.due - grid), \(rerun.due - grid), \(again.due - grid))")
    }

    /// Kavenegar fails only for now (`418` credit), then IPPanel refuses its own request for good (`422`, a pattern
    /// parameter it will not take): the message is not given up, Kavenegar may send it after a top-up. A permanent
    /// verdict from the first provider still ends it (below).
    @Test func aSecondProvidersPermanentRefusalLeavesTheMessageToTheFirst() async throws {
        let harness = try await DomainHarness()
        try await harness.setClock(morning)
        let services = try harness.services()
        await harness.control.enqueue(.kavenegar(code: 418), for: .kavenegarLookup)
        await harness.control.enqueue(.ippanel(httpStatus: 422, messageCode: "422-1", message: "pattern parameter invalid"), for: .ippanelSend)
        let failure = try await harness.failure(of: SMSSendJob(services: services), SMSTest.reminder("second-refuses"), attempt: 1)
        #expect(failure?.deferredTo != nil, "parked for the first provider: \(String(describing: failure))")
        #expect(try await harness.events("sms.failed").isEmpty)
        #expect(await harness.control.requests(to: .ippanelSend).count == 1)
        // After the top-up Kavenegar takes it.
        let parked = try #require(try await SMSTest.scheduled(harness).first { $0.envelope.payload["message_id"]?.stringValue == "second-refuses" })
        let payload = try JSONDecoder().decode(SMSSendPayload.self, from: JSONEncoder().encode(parked.envelope.payload))
        #expect(try await harness.failure(of: SMSSendJob(services: services), payload, id: parked.envelope.id) == nil)
        #expect(try await harness.events("sms.sent").first?.data["provider"]?.stringValue == "kavenegar")
    }

    /// The message given up (Kavenegar `411`), its `sms.failed` write refused after the ledger's mark: the next run
    /// (the job's retry) finds it given up and emits the event it lacks, once.
    @Test func aLostSmsFailedIsEmittedByTheNextRun() async throws {
        let harness = try await DomainHarness()
        try await harness.setClock(morning)
        let services = try harness.services()
        await harness.control.enqueue(.kavenegar(code: 411, message: "گیرنده نامعتبر است"), for: .kavenegarLookup)
        let events = "\(harness.namespace):events"
        try await harness.redis.send("SET", events, "not a stream")
        await #expect(throws: (any Error).self) { try await harness.failure(of: SMSSendJob(services: services), SMSTest.reminder("lost-failed")) }
        #expect(try await SMSLedger(services: services).record("lost-failed")?.state == "failed")
        try await harness.redis.send("DEL", events)
        #expect(try await harness.failure(of: SMSSendJob(services: services), SMSTest.reminder("lost-failed")) == nil)
        let failed = try await harness.events("sms.failed")
        #expect(failed.count == 1 && failed.first?.data["reason"]?.stringValue?.contains("[411]") == true, "\(failed.map(\.data))")
        #expect(failed.first?.data["user_id"]?.stringValue == "42")
        #expect(try await harness.failure(of: SMSSendJob(services: services), SMSTest.reminder("lost-failed")) == nil)
        #expect(try await harness.events("sms.failed").count == 1, "announced once")
        #expect(await harness.control.requests(to: .kavenegarLookup).count == 1)
    }

    /// Kavenegar `411` (invalid receptor, PERMANENT) → dead with the reason, `sms.failed`, IPPanel never asked.
    @Test func permanentFailureGoesToTheDeadSetWithSmsFailed() async throws {
        let harness = try await DomainHarness()
        try await harness.setClock(morning)
        await harness.control.enqueue(.kavenegar(code: 411, message: "گیرنده نامعتبر است"), for: .kavenegarLookup)
        let worker = try await harness.startWorker()
        try await SMSTest.reminder().enqueue(on: harness.jobs)

        let failed = try #require(try await harness.waitForEvents("sms.failed").first).data
        #expect(failed["message_id"]?.stringValue == SMSTest.reminder().messageID)
        #expect(failed["reason"]?.stringValue?.contains("[411]") == true)
        #expect(failed["user_id"]?.stringValue == "42")
        let dead = try await waitForDead(harness)
        #expect(dead.deadReason?.contains("411") == true, "\(dead.deadReason ?? "")")
        #expect(await harness.control.requests(to: .ippanelSend).isEmpty)
        #expect(try await harness.events("sms.sent").isEmpty)
        await SMSTest.stop(worker)
    }

    /// Both providers fail retryably: the job is retried (no `sms.failed`); on its last attempt it fails for good.
    @Test func everyProviderRetryableRetriesThenFailsOnTheLastAttempt() async throws {
        let harness = try await DomainHarness()
        try await harness.setClock(morning)
        for _ in 0..<2 {
            await harness.control.enqueue(.kavenegar(code: 409), for: .kavenegarLookup)
            await harness.control.enqueue(.reply(.text(429, "too many requests")), for: .ippanelSend)
        }
        let worker = try await harness.startWorker()
        try await SMSTest.reminder("retry-1").enqueue(on: harness.jobs)
        let retried = try await eventually(timeout: .seconds(20)) {
            try await SMSTest.scheduled(harness).contains { $0.envelope.payload["message_id"]?.stringValue == "retry-1" && $0.envelope.attempt == 1 }
        }
        #expect(retried)
        #expect(try await harness.events("sms.failed").isEmpty)

        // The same failures on a job allowed one attempt: sms.failed and the dead set.
        let payload = SMSTest.reminder("retry-2")
        try await harness.enqueue(SMSSendJob.type, try JSONDecoder().decode(JSONValue.self, from: JSONEncoder().encode(payload)),
                                  options: EnqueueOptions(maxAttempts: 1))
        let failed = try #require(try await harness.waitForEvents("sms.failed").first).data
        #expect(failed["message_id"]?.stringValue == "retry-2")
        #expect(failed["reason"]?.stringValue?.contains("failed 1 of 1 attempts") == true)
        await SMSTest.stop(worker)
    }

    /// A message no provider can send (no keys set) is retried, and on the job's last attempt it ends: `failed` in the
    /// ledger and `sms.failed`, as on any other last attempt. It went to the dead set with neither, and a service waiting
    /// for `sms.sent` or `sms.failed` heard nothing.
    @Test func noProviderOnTheLastAttemptEndsTheMessageWithSmsFailed() async throws {
        let harness = try await DomainHarness(environment: ["KAVENEGAR_API_KEY": "", "IPPANEL_API_KEY": ""])
        try await harness.setClock(morning)
        let services = try harness.services()
        let payload = SMSTest.reminder("no-provider")
        let early = try await harness.failure(of: SMSSendJob(services: services), payload, id: "job-np", attempt: 11, maxAttempts: 12)
        guard case .retry? = early?.disposition else { Issue.record("attempt 11: \(String(describing: early))"); return }
        #expect(try await harness.events("sms.failed").isEmpty)
        let capKey = SMSLedger(services: services).capKey(phone: "09121234567", day: SMSSendJob.dayString(morning, calendar: services.calendar))
        #expect(try await harness.redis.send("SISMEMBER", capKey, "no-provider").int == 1, "a retry keeps its place in the daily cap")
        let last = try await harness.failure(of: SMSSendJob(services: services), payload, id: "job-np", attempt: 12, maxAttempts: 12)
        #expect(last?.disposition == .permanent, "\(String(describing: last))")
        let failed = try #require(try await harness.events("sms.failed").first).data
        #expect(failed["message_id"]?.stringValue == "no-provider")
        #expect(failed["reason"]?.stringValue?.contains("no SMS provider configured") == true)
        let ledger = SMSLedger(services: services)
        #expect(try await ledger.record("no-provider")?.state == "failed")
        // Never sent: its place in the recipient's daily cap is given back.
        #expect(try await harness.redis.send("SISMEMBER", capKey, "no-provider").int == 0)
    }

    /// A send whose answer was lost, through a provider whose key has since been removed: its outbox cannot be read, so
    /// the job retries, and its last attempt ends the message as `unknown` with `sms.failed` (not a quiet dead job).
    @Test func anOutboxThatCannotBeReadOnTheLastAttemptEndsTheMessageAsUnknown() async throws {
        let harness = try await DomainHarness(environment: ["KAVENEGAR_API_KEY": ""])
        try await harness.setClock(morning)
        let services = try harness.services()
        let payload = SMSTest.reminder("lost-then-keyless")
        _ = try await SMSLedger(services: services).noteUnknownOutcome(payload.messageID, provider: "kavenegar", attemptStartedAt: morning)
        let early = try await harness.failure(of: SMSSendJob(services: services), payload, id: "job-keyless", attempt: 3, maxAttempts: 12)
        guard case .retry? = early?.disposition else { Issue.record("attempt 3: \(String(describing: early))"); return }
        #expect(early?.message.contains("KAVENEGAR_API_KEY is not set to check") == true, "\(String(describing: early))")
        let last = try await harness.failure(of: SMSSendJob(services: services), payload, id: "job-keyless", attempt: 12, maxAttempts: 12)
        #expect(last?.disposition == .permanent, "\(String(describing: last))")
        let failed = try #require(try await harness.events("sms.failed").first).data
        #expect(failed["reason"]?.stringValue?.hasPrefix("outcome unknown; not sent again") == true, "\(failed)")
        #expect(try await SMSLedger(services: services).record(payload.messageID)?.state == "unknown")
        #expect(await harness.control.requests(to: .ippanelSend).isEmpty, "nothing sent blind through the other provider")
    }

    /// Kavenegar's `451` (too many calls, IP restricted) is retried after 60 s; met a third time for one message it
    /// also tells an operator (docs/providers.md: "ALERT if it persists"), and the message is still retried.
    @Test func kavenegar451ThatPersistsRaisesAnAlert() async throws {
        let harness = try await DomainHarness(environment: ["SMS_PROVIDERS": "kavenegar"])
        try await harness.setClock(morning)
        let services = try harness.services()
        for _ in 0..<3 { await harness.control.enqueue(.kavenegar(code: 451), for: .kavenegarLookup) }
        var alertsAfter: [Int] = []
        for attempt in 1...3 {
            let failure = try await harness.failure(of: SMSSendJob(services: services), SMSTest.reminder("throttled"), id: "job-451", attempt: attempt)
            guard case .retry? = failure?.disposition else { Issue.record("attempt \(attempt): \(String(describing: failure))"); return }
            alertsAfter.append(try await harness.events("provider.alert").count)
        }
        #expect(alertsAfter == [0, 0, 1], "\(alertsAfter)")
        #expect(try await harness.events("provider.alert").first?.data["code"]?.stringValue == "451")
    }

    /// Kavenegar's `402` ("operation failed", meaning undocumented) is retried at most 3 times for a message
    /// (docs/providers.md §2.6), not for the job's 12 attempts; a known failure leaves no unknown-outcome mark.
    @Test func kavenegar402IsTriedThreeTimesThenTheMessageFails() async throws {
        let harness = try await DomainHarness(environment: ["SMS_PROVIDERS": "kavenegar"])
        try await harness.setClock(morning)
        let services = try harness.services()
        let payload = SMSTest.reminder("cap-402")
        for _ in 0..<3 { await harness.control.enqueue(.kavenegar(code: 402), for: .kavenegarLookup) }
        var verdicts: [JobFailure] = []
        for attempt in 1...3 {
            if let failure = try await harness.failure(of: SMSSendJob(services: services), payload, id: "job-402", attempt: attempt) {
                verdicts.append(failure)
            }
        }
        #expect(verdicts.count == 3)
        #expect(verdicts.prefix(2).allSatisfy { if case .retry = $0.disposition { true } else { false } }, "\(verdicts)")
        #expect(verdicts.last?.disposition == .permanent, "\(verdicts)")
        #expect(verdicts.last?.message.contains("kavenegar 402 is tried at most 3 times") == true, "\(verdicts)")
        let failed = try #require(try await harness.events("sms.failed").first).data
        #expect(failed["message_id"]?.stringValue == "cap-402")
        let record = try await SMSLedger(services: services).record("cap-402")
        #expect(record?.state == "failed")
        #expect(record?.unknownOutcomes == 0 && record?.unreconciledProvider == nil, "a 402 is a known outcome")
        #expect(await harness.control.requests(to: .kavenegarLookup).count == 3)
    }

    /// The same with IPPanel failing for now (429) each time: after the third 402 Kavenegar is not asked again for the
    /// message (a fourth lookup went out on every later attempt), and IPPanel sends it once it can.
    @Test func kavenegarCappedBy402IsNotAskedAgainWhileIPPanelTriesOn() async throws {
        let harness = try await DomainHarness()
        try await harness.setClock(morning)
        let services = try harness.services()
        let payload = SMSTest.reminder("cap-402-both")
        for _ in 0..<3 {
            await harness.control.enqueue(.kavenegar(code: 402), for: .kavenegarLookup)
            await harness.control.enqueue(.reply(.text(429, "too many requests")), for: .ippanelSend)
        }
        await harness.control.enqueue(.reply(.text(429, "too many requests")), for: .ippanelSend)
        for attempt in 1...5 {
            _ = try await harness.failure(of: SMSSendJob(services: services), payload, id: "job-402-both", attempt: attempt)
        }
        #expect(await harness.control.requests(to: .kavenegarLookup).count == 3, "never a fourth 402 lookup")
        #expect(await harness.control.requests(to: .ippanelSend).count == 5)
        let sent = try #require(try await harness.events("sms.sent").first).data
        #expect(sent["provider"]?.stringValue == "ippanel", "\(sent)")
    }

    /// A cancel (a renewal, a gift used) while the first provider holds the send: the cancel does not claim to have
    /// stopped it (the send may go out), and when that provider fails (418, no credit) the fallback does not send it.
    /// Checked only when the run began, the cancel was answered "cancelled" and IPPanel sent the SMS anyway.
    @Test func aCancelDuringTheFirstProvidersCallStopsTheFallback() async throws {
        let harness = try await DomainHarness()
        try await harness.setClock(morning)
        await harness.control.setKavenegarCredit(0)
        await harness.control.enqueue(.delay(.seconds(2)), for: .kavenegarLookup)
        let services = try harness.services()
        let ledger = SMSLedger(services: services)
        let payload = SMSTest.reminder("cancel-mid-send")
        async let run = harness.failure(of: SMSSendJob(services: services), payload)
        #expect(try await eventually { try await ledger.record(payload.messageID)?.unreconciledProvider == "kavenegar" }, "Kavenegar's send is under way")
        let stopped = try await ledger.cancel(payload.messageID, reason: "its subscription was renewed")
        #expect(!stopped, "a send was under way: not called stopped")
        _ = try await run
        #expect(await harness.control.requests(to: .ippanelSend).isEmpty, "the fallback did not send it")
        #expect(try await harness.events("sms.sent").isEmpty)
        // Cancelled with no send under way: stopped, and said so.
        let other = SMSTest.reminder("cancel-before-send")
        #expect(try await ledger.cancel(other.messageID, reason: "renewed"))
        #expect(try await harness.failure(of: SMSSendJob(services: services), other) == nil)
        #expect(await harness.control.requests(to: .ippanelSend).isEmpty)
        #expect(await harness.control.requests(to: .kavenegarLookup).count == 1, "the cancelled one was not sent either")
    }

    /// A `verify/lookup` whose outcome is unknown (HTTP 500 without an envelope: it may have been sent) is not
    /// handed to IPPanel and is sent at most once more, each time after Kavenegar's outbox showed it did not go out;
    /// after the second unknown outcome the outbox is asked once more, and when it shows neither went out, IPPanel sends
    /// it (no duplicate is possible then). With Kavenegar alone, the message fails as not sent.
    @Test func unknownOutcomeIsCappedAtTwoSendsThenTheOtherProviderSendsOnceTheOutboxShowsNone() async throws {
        for providers in ["kavenegar,ippanel", "kavenegar"] {
            let harness = try await DomainHarness(environment: ["SMS_UNKNOWN_OUTCOME_RETRY_SECONDS": "1", "SMS_PROVIDERS": providers])
            try await harness.setClock(morning)
            for _ in 0..<3 { await harness.control.enqueue(.reply(.text(500, "upstream failed")), for: .kavenegarLookup) }
            let worker = try await harness.startWorker()
            try await SMSTest.reminder().enqueue(on: harness.jobs)
            let ended = try #require(try await harness.waitForEvents(providers == "kavenegar" ? "sms.failed" : "sms.sent", timeout: .seconds(40)).first).data
            #expect(await harness.control.requests(to: .kavenegarLookup).count == 2)
            #expect(await harness.control.requests(to: .kavenegarSelectOutbox).count == 2)
            if providers == "kavenegar" {
                #expect(ended["reason"]?.stringValue?.contains("not sent: Kavenegar's outbox has no message for any of the 2 sends") == true)
                let dead = try await waitForDead(harness)
                #expect(dead.deadReason?.contains("not sent") == true)
            } else {
                #expect(ended["provider"]?.stringValue == "ippanel", "\(ended)")
                #expect(await harness.control.requests(to: .ippanelSend).count == 1)
                #expect(try await harness.events("sms.failed").isEmpty)
            }
            await SMSTest.stop(worker)
        }
    }

    /// The provider capped for a message stays capped: IPPanel, sending in Kavenegar's place, fails for now (429), and
    /// its retry goes to IPPanel again, not to a third Kavenegar `verify/lookup` (the cap lived in one run only).
    @Test func aCappedProviderIsNotSentThroughOnTheMessagesNextRun() async throws {
        let harness = try await DomainHarness()
        try await harness.setClock(morning)
        let services = try harness.services()
        for _ in 0..<3 { await harness.control.enqueue(.reply(.text(500, "upstream failed")), for: .kavenegarLookup) }
        await harness.control.enqueue(.reply(.text(429, "too many requests")), for: .ippanelSend)
        // Runs of one job, in turn: two lost Kavenegar answers, then Kavenegar's outbox shows neither went out and
        // IPPanel takes over (429: retried), then the retry.
        var verdicts: [String] = []
        for attempt in 1...4 {
            let failure = try await harness.failure(of: SMSSendJob(services: services), SMSTest.reminder(), id: "capped-job", attempt: attempt)
            verdicts.append(failure.map { "\($0.disposition)" } ?? "done")
            if failure == nil { break }
        }
        #expect(verdicts.last == "done", "\(verdicts)")
        #expect(try await harness.events("sms.sent").first?.data["provider"]?.stringValue == "ippanel")
        #expect(await harness.control.requests(to: .kavenegarLookup).count == 2, "no third blind send through Kavenegar")
        #expect(await harness.control.requests(to: .ippanelSend).count == 2)
    }

    /// A real timeout: the fake accepts the lookup but answers after the client's 15 s limit. The job does not fall
    /// back to IPPanel (the SMS may be out); Kavenegar's outbox shows the message went out, so it is recorded as sent
    /// with that id and not sent again.
    @Test func lookupTimeoutIsFoundInTheOutboxWithoutFallback() async throws {
        let harness = try await DomainHarness(environment: ["SMS_UNKNOWN_OUTCOME_RETRY_SECONDS": "1"])
        try await harness.setClock(morning)
        await harness.control.enqueue(.succeedThenDelay(.seconds(20)), for: .kavenegarLookup)
        let worker = try await harness.startWorker()
        try await SMSTest.reminder().enqueue(on: harness.jobs)
        let sent = try #require(try await harness.waitForEvents("sms.sent", timeout: .seconds(60)).first).data
        #expect(sent["provider"]?.stringValue == "kavenegar")
        #expect(await harness.control.requests(to: .kavenegarLookup).count == 1)
        #expect(await harness.control.kavenegarMessageCount() == 1)
        #expect(await harness.control.requests(to: .ippanelSend).isEmpty)
        let record = try await SMSLedger(services: try harness.services()).record(SMSTest.reminder().messageID)
        #expect(record?.unknownOutcomes == 1)
        #expect(record?.state == "sent")
        await SMSTest.stop(worker)
    }

    /// At 23:00 Tehran nothing is sent: the job is re-enqueued for 08:00 (a fresh job, no attempt used) and sent then.
    @Test func quietHoursDeferToTheirEndWithoutBurningAttempts() async throws {
        let harness = try await DomainHarness()
        let night = SMSTest.tehran(2024, 11, 23, 23)
        try await harness.setClock(night)
        let worker = try await harness.startWorker()
        let payload = SMSTest.reminder()
        try await payload.enqueue(on: harness.jobs)

        var deferred: (envelope: JobEnvelope, due: Double)?
        let found = try await eventually(timeout: .seconds(20)) {
            deferred = try await SMSTest.scheduled(harness).first { $0.envelope.type == SMSSendJob.type }
            return deferred != nil
        }
        #expect(found)
        let job = try #require(deferred)
        // 08:00 next morning is 9 hours of domain time away; the engine gets the matching real time.
        let expected = Date().timeIntervalSince1970 + 9 * 3600
        #expect(abs(job.due - expected) < 120, "due \(job.due), expected about \(expected)")
        #expect(job.envelope.attempt == 0)
        #expect(job.envelope.payload["message_id"]?.stringValue == payload.messageID)
        try await harness.waitUntilIdle()
        #expect(await harness.control.requests(to: .kavenegarLookup).isEmpty)
        #expect(try await harness.dead().isEmpty)

        // 08:00: make the deferred job due now; it sends.
        try await harness.setClock(SMSTest.tehran(2024, 11, 24, 8))
        let keys = harness.jobs.keys("default")
        try await harness.redis.send("ZADD", keys.scheduled, "XX", String(Date().timeIntervalSince1970), job.envelope.id)
        _ = try await harness.waitForEvents("sms.sent")
        #expect(await harness.control.requests(to: .kavenegarLookup).count == 1)
        await SMSTest.stop(worker)
    }

    /// The deferred job run before its time by this host's clock (a clock behind Redis's, which promoted it; or an
    /// operator's "run now"): it defers to the same 08:00, whose once-key names itself. It must wait for its time,
    /// not settle as "deferred to itself", which acknowledged it and lost the message.
    @Test func aDeferredJobRunBeforeItsTimeWaitsInsteadOfDeferringToItself() async throws {
        let harness = try await DomainHarness()
        try await harness.setClock(SMSTest.tehran(2024, 11, 23, 23))
        let worker = try await harness.startWorker()
        let payload = SMSTest.reminder()
        try await payload.enqueue(on: harness.jobs)
        var deferred: (envelope: JobEnvelope, due: Double)?
        #expect(try await eventually(timeout: .seconds(20)) {
            deferred = try await SMSTest.scheduled(harness).first { $0.envelope.type == SMSSendJob.type }
            return deferred != nil
        })
        let job = try #require(deferred)
        // Still 23:00 by the domain clock: the deferred job is made due now.
        let keys = harness.jobs.keys("default")
        try await harness.redis.send("ZADD", keys.scheduled, "XX", String(Date().timeIntervalSince1970), job.envelope.id)
        var again: (envelope: JobEnvelope, due: Double)?
        let waits = try await eventually(timeout: .seconds(20)) {
            again = try await SMSTest.scheduled(harness).first { $0.envelope.id == job.envelope.id && $0.envelope.attempt == 1 }
            return again != nil
        }
        #expect(waits, "the deferred job is lost")
        #expect(abs((again?.due ?? 0) - job.due) < 120, "it waits for the same 08:00")
        #expect(await harness.control.requests(to: .kavenegarLookup).isEmpty)
        await SMSTest.stop(worker)
    }

    /// With a cap of 2 a day, the third message to the same number waits for the next day's 08:00.
    @Test func dailyCapDefersToTheNextDay() async throws {
        let harness = try await DomainHarness(environment: ["SMS_DAILY_CAP": "2"])
        try await harness.setClock(morning)
        let worker = try await harness.startWorker()
        for index in 1...3 {
            try await SMSTest.reminder("cap-\(index)", phone: index == 2 ? "09121234567" : "+989121234567").enqueue(on: harness.jobs)
            try await harness.waitUntilIdle()
        }
        #expect(try await harness.waitForEvents("sms.sent", count: 2).count == 2)
        #expect(await harness.control.requests(to: .kavenegarLookup).count == 2)
        let deferred = try #require(try await SMSTest.scheduled(harness).first { $0.envelope.type == SMSSendJob.type })
        #expect(deferred.envelope.payload["message_id"]?.stringValue == "cap-3")
        // 10:00 → 08:00 next day: 22 hours.
        let expected = Date().timeIntervalSince1970 + 22 * 3600
        #expect(abs(deferred.due - expected) < 120, "due \(deferred.due), expected about \(expected)")
        // Another recipient is not capped.
        try await SMSTest.reminder("cap-other", phone: "09351234567").enqueue(on: harness.jobs)
        #expect(try await harness.waitForEvents("sms.sent", count: 3).count == 3)
        await SMSTest.stop(worker)
    }

    /// The same message_id enqueued twice, run twice at once, and re-run after success: one provider call.
    @Test func sameMessageIsSentOnce() async throws {
        let harness = try await DomainHarness()
        try await harness.setClock(morning)
        let worker = try await harness.startWorker()
        let payload = SMSTest.reminder()
        #expect(try await payload.enqueue(on: harness.jobs).createdID != nil)
        if case .alreadyEnqueued = try await payload.enqueue(on: harness.jobs) {} else { Issue.record("second enqueue was not refused") }
        // Two more jobs for the same message straight into the queue (no once-key), at the same moment.
        let json = try JSONDecoder().decode(JSONValue.self, from: JSONEncoder().encode(payload))
        try await harness.enqueue(SMSSendJob.type, json)
        try await harness.enqueue(SMSSendJob.type, json)
        _ = try await harness.waitForEvents("sms.sent")
        let settled = try await eventually(timeout: .seconds(60)) {
            let info = try await harness.jobs.info(queue: "default")
            return info.ready == 0 && info.inFlight == 0 && info.scheduled == 0
        }
        #expect(settled)
        // The handler called again in this process after success.
        try await SMSSendJob(services: try harness.services()).run(payload, context: harness.context(type: SMSSendJob.type))
        #expect(await harness.control.requests(to: .kavenegarLookup).count == 1)
        #expect(await harness.control.kavenegarMessageCount() == 1)
        #expect(try await harness.events("sms.sent").count == 1)
        await SMSTest.stop(worker)
    }

    /// A recovered run finds the send lock held by its own earlier run (which died holding it, or is stalled and may
    /// still send): it must not take it, and it waits for the lock to lapse in one retry, not one every 10 s (twelve
    /// of which ended before a two-minute lock did). Another job of the same message holding it is sending now: 10 s.
    @Test func aRecoveredRunWaitsForItsEarlierRunsLockInOneRetry() async throws {
        let harness = try await DomainHarness()
        try await harness.setClock(morning)
        let services = try harness.services()
        let ledger = SMSLedger(services: services)
        let payload = SMSTest.reminder()
        #expect(try await ledger.lock(payload.messageID, token: "job-1:1"))
        let job = SMSSendJob(services: services)
        let own = try #require(try await harness.failure(of: job, payload, id: "job-1", attempt: 2)?.retryDelay)
        #expect((100...122).contains(own), "\(own)")
        let other = try #require(try await harness.failure(of: job, payload, id: "job-2")?.retryDelay)
        #expect((8...11).contains(other), "\(other)")
        #expect(await harness.control.requests(to: .kavenegarLookup).isEmpty)
    }

    /// Bad payloads go to the dead set with the reason: a token Kavenegar would refuse, an unknown template, a
    /// payload that does not decode. Nothing is sent.
    @Test func badPayloadsAreDeadWithTheReason() async throws {
        let harness = try await DomainHarness()
        try await harness.setClock(morning)
        let worker = try await harness.startWorker()
        var spaced = SMSTest.reminder("bad-token")
        spaced.tokens["token"] = "3 days"
        try await spaced.enqueue(on: harness.jobs)
        var unknown = SMSTest.reminder("bad-template")
        unknown.template = "welcome"
        try await unknown.enqueue(on: harness.jobs)
        try await harness.enqueue(SMSSendJob.type, ["message_id": "no-phone", "template": "low_credit", "tokens": ["token": "1"]])

        let dead = try await eventually(timeout: .seconds(20)) { try await harness.dead().count == 3 }
        #expect(dead)
        let reasons = try await harness.dead().map { ($0.payload["message_id"]?.stringValue ?? "", $0.deadReason ?? "") }
        let byID = Dictionary(reasons, uniquingKeysWith: { first, _ in first })
        #expect(byID["bad-token"]?.contains("token has 1 space(s)") == true, "\(reasons)")
        #expect(byID["bad-template"]?.contains("unknown template welcome") == true, "\(reasons)")
        #expect(byID["no-phone"]?.contains("phone") == true, "\(reasons)")
        #expect(await harness.control.requests(to: .kavenegarLookup).isEmpty)
        #expect(try await harness.events("sms.failed").count == 2)
        await SMSTest.stop(worker)
    }

    /// `SMS_PROVIDERS` decides the order: with `ippanel,kavenegar` the IPPanel pattern goes first and Kavenegar is
    /// not called.
    @Test func providerOrderComesFromConfiguration() async throws {
        let harness = try await DomainHarness(environment: ["SMS_PROVIDERS": "ippanel,kavenegar"])
        try await harness.setClock(morning)
        let worker = try await harness.startWorker()
        try await SMSTest.reminder().enqueue(on: harness.jobs)
        let sent = try #require(try await harness.waitForEvents("sms.sent").first).data
        #expect(sent["provider"]?.stringValue == "ippanel")
        #expect(await harness.control.requests(to: .kavenegarLookup).isEmpty)
        await SMSTest.stop(worker)
    }

    /// Only providers with keys are used: without IPPANEL_API_KEY a retryable Kavenegar failure has no fallback, the
    /// job retries, and the retry sends through Kavenegar.
    @Test func unconfiguredProviderIsSkipped() async throws {
        let harness = try await DomainHarness(environment: ["IPPANEL_API_KEY": ""])
        try await harness.setClock(morning)
        await harness.control.enqueue(.kavenegar(code: 409), for: .kavenegarLookup)
        let worker = try await harness.startWorker()
        try await SMSTest.reminder().enqueue(on: harness.jobs)
        var retry: (envelope: JobEnvelope, due: Double)?
        #expect(try await eventually(timeout: .seconds(20)) {
            retry = try await SMSTest.scheduled(harness).first { $0.envelope.type == SMSSendJob.type }
            return retry != nil
        })
        let job = try #require(retry)
        #expect(job.envelope.attempt == 1)
        #expect(job.envelope.lastError?.contains("[409]") == true)
        #expect(await harness.control.requests().allSatisfy { $0.endpoint != .ippanelSend })
        try await harness.redis.send("ZADD", harness.jobs.keys("default").scheduled, "XX", String(Date().timeIntervalSince1970), job.envelope.id)
        let sent = try #require(try await harness.waitForEvents("sms.sent").first).data
        #expect(sent["provider"]?.stringValue == "kavenegar")
        #expect(await harness.control.requests(to: .kavenegarLookup).count == 2)
        await SMSTest.stop(worker)
    }

    /// `SMS_DRY_RUN=true`: no provider is called; the message is recorded as sent by `dry-run` and polls to delivered.
    @Test func dryRunSendsNothing() async throws {
        let harness = try await DomainHarness(environment: ["SMS_DRY_RUN": "true"])
        try await harness.setClock(morning)
        let worker = try await harness.startWorker()
        try await SMSTest.reminder().enqueue(on: harness.jobs)
        let sent = try #require(try await harness.waitForEvents("sms.sent").first).data
        #expect(sent["provider"]?.stringValue == "dry-run")
        try await harness.setClock(morning.addingTimeInterval(300))
        try await SMSTest.poll(harness)
        let status = try #require(try await harness.waitForEvents("sms.status").first).data
        #expect(status["state"]?.stringValue == "delivered")
        #expect(await harness.control.requests().allSatisfy { $0.endpoint == .kavenegarAccountInfo })
        await SMSTest.stop(worker)
    }

    private func waitForDead(_ harness: DomainHarness) async throws -> JobEnvelope {
        var dead: [JobEnvelope] = []
        _ = try await eventually(timeout: .seconds(30)) {
            dead = try await harness.dead()
            return !dead.isEmpty
        }
        return try #require(dead.first)
    }
}

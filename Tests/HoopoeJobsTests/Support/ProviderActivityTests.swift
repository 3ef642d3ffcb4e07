import Foundation
import HoopoeCore
import HoopoeJSON
import HoopoeJobs
import ProviderFakes
import Providers
import Redis
import TestSupport
import Testing

/// What the dashboard's Providers page reads, as real SMS jobs record it (a real worker, the fake Kavenegar and
/// IPPanel): the credit `sms.delivery_poll` read, its `credit_low` alert, a refused message's `sms.failed`, a sent one.
@Suite(.serialized) struct ProviderActivityTests {
    @Test func creditAlertsFailuresAndStatesAsTheJobsRecordedThem() async throws {
        let harness = try await DomainHarness(environment: ["KAVENEGAR_CREDIT_FLOOR": "2000000", "SMS_CREDIT_CHECK_MINUTES": "30"])
        try await harness.setClock(SMSTest.tehran(2024, 11, 23, 10))
        #expect(try await SMSLedger.lastCredit(redis: harness.redis, namespace: harness.namespace) == nil, "nothing read yet")
        await harness.control.enqueue(.kavenegar(code: 411, message: "invalid receptor"), for: .kavenegarLookup)
        let worker = try await harness.startWorker()
        try await SMSTest.reminder("refused").enqueue(on: harness.jobs)
        _ = try await harness.waitForEvents("sms.failed")
        try await SMSTest.reminder("accepted").enqueue(on: harness.jobs)
        _ = try await harness.waitForEvents("sms.sent")
        try await SMSTest.poll(harness)
        _ = try await harness.waitForEvents("provider.alert")

        let credit = try #require(try await SMSLedger.lastCredit(redis: harness.redis, namespace: harness.namespace))
        #expect(credit.checkedAt != nil)
        let events = try await EventLog(redis: harness.redis, namespace: harness.namespace).recent(count: 2000)
        #expect(events.first?.type == "provider.alert" || events.contains { $0.type == "provider.alert" })
        let activity = ProviderActivity(events: events)
        #expect(activity.alerts.map { "\($0.provider ?? "")/\($0.code ?? "")" } == ["kavenegar/credit_low"])
        // The fake's account (1,500,000 Rial) less what the one accepted message cost: the figure the alert names too.
        let remaining = try #require(credit.remaining)
        #expect(remaining > 1_000_000 && remaining < 1_500_000, "\(credit)")
        #expect(activity.alerts.first?.text.contains("remaining credit \(remaining) Rial") == true, "\(activity.alerts)")
        #expect(activity.failures.count == 1 && activity.failures[0].event == "sms.failed" && activity.failures[0].text.contains("[411]"))
        #expect(activity.failures[0].subject == "refused")
        #expect(!activity.failures.contains { $0.text.contains("+989121234567") })
        let states = Dictionary(uniqueKeysWithValues: activity.deliveryStates.map { ($0.state, $0.count) })
        #expect(states["failed"] == 1 && states.values.reduce(0, +) == 2, "\(states)")
        #expect(activity.eventsRead == events.count)
        await SMSTest.stop(worker)
    }

    /// A phone in a provider's reason is masked; the newest event of a message decides its state.
    @Test func phonesAreMaskedAndTheNewestStateWins() {
        func event(_ type: String, _ data: [String: JSONValue], at: Double) -> EventLog.Recorded {
            EventLog.Recorded(id: "\(Int(at))-0", type: type, data: .object(data), at: at)
        }
        let activity = ProviderActivity(events: [
            event("sms.status", ["message_id": "m1", "state": "delivered"], at: 3),
            event("sms.failed", ["message_id": "m2", "reason": "refused 09121234567"], at: 2),
            event("sms.sent", ["message_id": "m1", "provider": "kavenegar"], at: 1),
        ])
        #expect(activity.failures.map(\.text) == ["refused 0912****567"])
        #expect(activity.deliveryStates.map { "\($0.state)=\($0.count)" } == ["delivered=1", "failed=1"])
    }
}

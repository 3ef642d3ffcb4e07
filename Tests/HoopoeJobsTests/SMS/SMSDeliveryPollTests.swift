import Foundation
import HoopoeCore
import HoopoeJSON
import HoopoeJobs
import ProviderFakes
import Providers
import Redis
import TestSupport
import Testing

/// `sms.delivery_poll` end to end with a real worker process and the fake Kavenegar.
@Suite(.serialized) struct SMSDeliveryPollTests {
    let start = SMSTest.tehran(2024, 11, 23, 10)

    /// The must-show: 2,000 messages with mixed fake statuses reach their final states, each poll round
    /// costing at most ceil(n/500) Kavenegar `sms/status` calls for its n due messages — with two poll jobs
    /// overlapping in every round, and each message asked about once a round.
    @Test func twoThousandMessagesReachFinalStatesInBatchesOf500() async throws {
        let harness = try await DomainHarness()
        try await harness.setClock(start)
        let services = try harness.services()
        let client = try #require(services.providers.kavenegar)
        let ledger = SMSLedger(services: services)
        // Real lookups at the fake (so it knows every id), recorded through the ledger as sms.send records them.
        let groups: [(lifecycle: [Int], count: Int, final: String)] = [
            ([1, 4, 10], 800, "delivered"), ([1, 6], 400, "failed"), ([1, 11], 300, "undelivered"), ([1, 14], 200, "blocked"),
            ([1, 4], 300, "expired"),
        ]
        var expected: [String: String] = [:]
        var number = 0
        for group in groups {
            await harness.control.setKavenegarLifecycle(group.lifecycle)
            let first = number
            number += group.count
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                for offset in 0..<16 {
                    tasks.addTask {
                        for index in stride(from: first + offset, to: first + group.count, by: 16) {
                            let messages = try await client.lookup(KavenegarLookup(receptor: "09121234567", template: "verify", token: String(index)))
                            try await ledger.recordSent(
                                messageID: "bulk-\(index)", provider: "kavenegar", providerIDs: messages.map { String($0.messageID) },
                                sentAt: start, userID: String(index), purpose: "test")
                        }
                    }
                }
                try await tasks.waitForAll()
            }
            for index in first..<(first + group.count) { expected["bulk-\(index)"] = group.final }
        }
        await harness.control.clearRequests()
        let worker = try await harness.startWorker()

        /// One round at `offset` seconds after the send: returns how many messages were asked about.
        func round(_ offset: Double, due: Int) async throws -> Int {
            try await harness.setClock(start.addingTimeInterval(offset))
            await harness.control.clearRequests()
            try await SMSTest.poll(harness, jobs: 2)
            let calls = await SMSTest.forms(harness, .kavenegarStatus)
            let ids = calls.map { ($0["messageid"] ?? "").split(separator: ",").count }
            #expect(calls.count <= (due + 499) / 500, "round at +\(Int(offset))s: \(calls.count) calls for \(due) due messages")
            #expect(ids.allSatisfy { $0 <= 500 })
            return ids.reduce(0, +)
        }
        #expect(try await round(60, due: 0) == 0)           // nothing before 5 minutes
        #expect(try await round(300, due: 2000) == 2000)    // all, once each: 900 reach failed/undelivered/blocked
        #expect(try await round(600, due: 1100) == 1100)    // 800 delivered, 300 still with the operator
        #expect(try await round(1200, due: 300) == 300)     // still pending (next in 20 minutes)
        #expect(try await round(48 * 3600, due: 300) == 0)  // 48 h: expired without asking

        let events = try await harness.waitForEvents("sms.status", count: 2000, timeout: .seconds(60))
        #expect(events.count == 2000)
        var final: [String: String] = [:]
        for event in events {
            final[event.data["message_id"]?.stringValue ?? ""] = event.data["state"]?.stringValue
        }
        #expect(final == expected)
        #expect(events.allSatisfy { $0.data["provider"]?.stringValue == "kavenegar" })
        #expect(try await harness.redis.send("ZCARD", ledger.pollKey).int == 0)
        let sample = try await ledger.record("bulk-0")
        #expect(sample?.delivery == "delivered")
        #expect(sample?.rawStatus == "10")
        await SMSTest.stop(worker)
    }

    /// The credit is read at most every SMS_CREDIT_CHECK_MINUTES, and below the floor one `provider.alert` is raised.
    @Test func lowKavenegarCreditRaisesOneAlert() async throws {
        let harness = try await DomainHarness(environment: ["KAVENEGAR_CREDIT_FLOOR": "2000000", "SMS_CREDIT_CHECK_MINUTES": "30"])
        try await harness.setClock(start)
        let worker = try await harness.startWorker()
        try await SMSTest.poll(harness)
        let alerts = try await harness.waitForEvents("provider.alert")
        #expect(alerts.first?.data["code"]?.stringValue == "credit_low")
        #expect(alerts.first?.data["provider"]?.stringValue == "kavenegar")
        #expect(alerts.first?.data["message"]?.stringValue?.contains("1500000") == true)
        try await harness.setClock(start.addingTimeInterval(600))
        try await SMSTest.poll(harness)
        #expect(await harness.control.requests(to: .kavenegarAccountInfo).count == 1)
        try await harness.setClock(start.addingTimeInterval(1860))
        try await SMSTest.poll(harness)
        #expect(await harness.control.requests(to: .kavenegarAccountInfo).count == 2)
        #expect(try await harness.events("provider.alert").count == 1)
        await SMSTest.stop(worker)
    }

    /// A failing status call loses nothing: the messages are polled again a minute later.
    @Test func failedStatusCallIsRetriedNextRound() async throws {
        let harness = try await DomainHarness()
        try await harness.setClock(start)
        let worker = try await harness.startWorker()
        try await SMSTest.reminder().enqueue(on: harness.jobs)
        _ = try await harness.waitForEvents("sms.sent")
        let ids = try await harness.waitForEvents("sms.sent")[0].data["provider_message_ids"]?.arrayValue?.compactMap(\.stringValue) ?? []
        await harness.control.setKavenegarStatus(messageID: Int64(ids[0])!, status: 10)
        await harness.control.enqueue(.kavenegar(code: 409), for: .kavenegarStatus)
        try await harness.setClock(start.addingTimeInterval(300))
        try await SMSTest.poll(harness)
        #expect(try await harness.events("sms.status").isEmpty)
        try await harness.setClock(start.addingTimeInterval(360))
        try await SMSTest.poll(harness)
        let status = try #require(try await harness.waitForEvents("sms.status").first).data
        #expect(status["state"]?.stringValue == "delivered")
        #expect(await harness.control.requests(to: .kavenegarStatus).count == 2)
        await SMSTest.stop(worker)
    }

    /// A message whose id Kavenegar disowns (status `100`) inside the 48 hours ends `invalid_id`, not `expired`, and is
    /// not asked about again.
    @Test func kavenegarInvalidIdIsItsOwnState() async throws {
        let harness = try await DomainHarness()
        try await harness.setClock(start)
        let worker = try await harness.startWorker()
        try await SMSTest.reminder().enqueue(on: harness.jobs)
        let ids = try await harness.waitForEvents("sms.sent")[0].data["provider_message_ids"]?.arrayValue?.compactMap(\.stringValue) ?? []
        await harness.control.setKavenegarStatus(messageID: try #require(ids.first.flatMap { Int64($0) }), status: 100)
        try await harness.setClock(start.addingTimeInterval(300))
        try await SMSTest.poll(harness)
        let status = try #require(try await harness.waitForEvents("sms.status").first).data
        #expect(status["state"]?.stringValue == "invalid_id")
        #expect(status["raw_status"]?.stringValue == "100")
        try await harness.setClock(start.addingTimeInterval(3600))
        try await SMSTest.poll(harness)
        #expect(await harness.control.requests(to: .kavenegarStatus).count == 1)
        await SMSTest.stop(worker)
    }

    /// A poll that recorded a final state but could not write its `sms.status` (the event write failed, or it died in
    /// between) lost the event for good: the message left the poll set. The next poll announces it.
    @Test func aLostStatusEventIsEmittedByTheNextPoll() async throws {
        let harness = try await DomainHarness()
        try await harness.setClock(start)
        let services = try harness.services()
        let client = try #require(services.providers.kavenegar)
        let ledger = SMSLedger(services: services)
        let messages = try await client.lookup(KavenegarLookup(receptor: "09121234567", template: "verify", token: "1"))
        try await ledger.recordSent(
            messageID: "lost-status", provider: "kavenegar", providerIDs: messages.map { String($0.messageID) }, sentAt: start, userID: "42", purpose: "test")
        await harness.control.setKavenegarStatus(messageID: try #require(messages.first?.messageID), status: 10)
        try await harness.setClock(start.addingTimeInterval(300))
        let events = "\(harness.namespace):events"
        try await harness.redis.send("SET", events, "not a stream")
        await #expect(throws: (any Error).self) { try await harness.run(SMSDeliveryPollJob(services: services), ["tick": 1]) }
        #expect(try await ledger.record("lost-status")?.delivery == "delivered")
        try await harness.redis.send("DEL", events)
        try await harness.run(SMSDeliveryPollJob(services: services), ["tick": 2])
        let status = try await harness.events("sms.status")
        #expect(status.map { $0.data["state"]?.stringValue } == ["delivered"], "\(status.map(\.data))")
        #expect(status.first?.data["message_id"]?.stringValue == "lost-status")
        try await harness.run(SMSDeliveryPollJob(services: services), ["tick": 3])
        #expect(try await harness.events("sms.status").count == 1, "announced once")
    }
}

import Foundation
import HoopoeCore
import HoopoeJSON
import HoopoeJobs
import ProviderFakes
import Providers
import Redis
import TestSupport
import Testing

/// Helpers the SMS tests share.
enum SMSTest {
    /// A wall-clock time in Tehran.
    static func tehran(_ year: Int, _ month: Int, _ day: Int, _ hour: Int, _ minute: Int = 0) -> Date {
        LocalCalendar.tehran.gregorian.date(from: DateComponents(year: year, month: month, day: day, hour: hour, minute: minute))!
    }

    /// The expiration reminder of issue 6, for user 42.
    static func reminder(_ messageID: String = "reminder.expiration:42:1735689600:3", phone: String = "+989121234567") -> SMSSendPayload {
        SMSSendPayload(
            messageID: messageID, phone: phone, template: "expiration_reminder",
            tokens: ["token10": "Sara Ahmadi", "token": "3", "token2": "1403/10/12", "token3": "https://kamva.ir/email/receipt/981"],
            userID: "42", purpose: "reminder.expiration")
    }

    /// The form fields of each recorded request to `endpoint`.
    static func forms(_ harness: DomainHarness, _ endpoint: FakeEndpoint) async -> [[String: String]] {
        await harness.control.requests(to: endpoint).map {
            Dictionary(FormEncoding.decode($0.bodyText), uniquingKeysWith: { first, _ in first })
        }
    }

    /// The delayed jobs of a queue with their due times (real Unix seconds).
    static func scheduled(_ harness: DomainHarness, queue: String = "default") async throws -> [(envelope: JobEnvelope, due: Double)] {
        let keys = harness.jobs.keys(queue)
        let reply = try await harness.redis.send("ZRANGE", keys.scheduled, "0", "-1", "WITHSCORES")
        let items = reply.array ?? []
        var result: [(JobEnvelope, Double)] = []
        var index = 0
        while index + 1 < items.count {
            if let id = items[index].string, let due = items[index + 1].string.flatMap(Double.init),
                let bytes = try await harness.redis.send("HGET", keys.scheduledJobs, id).bytes
            {
                result.append((try JobEnvelope.decode(bytes), due))
            }
            index += 2
        }
        return result
    }

    /// Enqueues a delivery poll (as the scheduler's tick would) and waits until the queue is idle.
    static func poll(_ harness: DomainHarness, jobs count: Int = 1) async throws {
        for _ in 0..<count {
            try await harness.enqueue(SMSDeliveryPollJob.type, ["tick": .integer(Int64(Date().timeIntervalSince1970)), "task": "sms-poll"])
        }
        try await harness.waitUntilIdle(timeout: .seconds(60))
    }

    /// Stops a worker and waits for it: an orderly stop exits 0 (a worker that crashed while draining, or never stops,
    /// fails the test that ran it).
    static func stop(_ process: ChildProcess, sourceLocation: SourceLocation = #_sourceLocation) async {
        process.signal(SIGTERM)
        #expect(await process.wait(timeout: .seconds(30)) == 0, "\(process.output)", sourceLocation: sourceLocation)
    }
}

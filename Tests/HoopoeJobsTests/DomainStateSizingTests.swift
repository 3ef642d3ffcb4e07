import Foundation
import HoopoeCore
import HoopoeJSON
@testable import HoopoeJobs
import Redis
import TestSupport
import Testing

/// docs/operating.md sizes Redis for what the domain jobs keep after a message is sent, besides the jobs themselves:
/// an SMS's ledger hash and once-key for 30 days, its recipient's daily-cap set for 2 days, an email's record and
/// once-key for 30 days. In a long run these, not the queues, hold most of Redis's memory (100,000 SMSs a day keep
/// about 3,000,000 of each), so the bytes and the days the guide names are measured here on a real send: a ledger
/// that grows, or a retention that changes, fails this test until the guide says so.
@Suite(.serialized) struct DomainStateSizingTests {
    /// The guide's figures: `a sent SMS keeps about N bytes for D days`, `its recipient's daily cap about N bytes for D
    /// days`, `a sent email about N bytes for D days`.
    struct Promise {
        let bytes: Int
        let days: Int
    }

    static func promise(_ what: String) throws -> Promise {
        let guide = try String(contentsOf: BuiltProducts.projectRoot.appendingPathComponent("docs/operating.md"), encoding: .utf8)
        let flat = guide.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        let pattern = try Regex("\(what) (?:keeps )?about ([0-9,]+) bytes for ([0-9]+) days")
        let found = flat.firstMatch(of: pattern)
        let match = try #require(found, "docs/operating.md does not say: \(what) … about N bytes for D days")
        let bytes = try #require(Int(String(match.output[1].substring ?? "").replacingOccurrences(of: ",", with: "")))
        let days = try #require(Int(String(match.output[2].substring ?? "")))
        return Promise(bytes: bytes, days: days)
    }

    /// Keys' `MEMORY USAGE` summed (every element), and the longest TTL among them in seconds.
    static func footprint(_ redis: RedisClient, _ keys: [String]) async throws -> (bytes: Int, ttl: Int) {
        var bytes = 0
        var ttl = 0
        for key in keys {
            bytes += try #require(try await redis.send("MEMORY", "USAGE", key, "SAMPLES", "0").int, "\(key) is missing")
            ttl = max(ttl, try #require(try await redis.send("TTL", key).int))
        }
        return (bytes, ttl)
    }

    static func keys(_ redis: RedisClient, matching pattern: String) async throws -> [String] {
        let reply = try await redis.send("KEYS", pattern)
        return reply.array?.compactMap(\.string) ?? []
    }

    /// Measured within a third of the guide's bytes (jemalloc's size classes move a small key by tens of bytes), and
    /// kept for the guide's days (less the seconds the test took).
    static func expect(_ measured: (bytes: Int, ttl: Int), matches promise: Promise, _ what: String) {
        let low = promise.bytes * 2 / 3
        let high = promise.bytes * 4 / 3
        #expect((low...high).contains(measured.bytes), "\(what): \(measured.bytes) bytes measured, docs/operating.md says about \(promise.bytes)")
        let days = Double(measured.ttl) / 86_400
        #expect(abs(days - Double(promise.days)) < 0.01, "\(what): kept \(days) days, docs/operating.md says \(promise.days)")
    }

    @Test func aSentSMSKeepsWhatTheGuideSays() async throws {
        let harness = try await DomainHarness()
        try await harness.setClock(SMSTest.tehran(2024, 11, 23, 10))
        let worker = try await harness.startWorker()
        let payload = SMSTest.reminder()
        _ = try await payload.enqueue(on: harness.jobs)
        _ = try await harness.waitForEvents("sms.sent")
        // Polled to its final state, as every sent SMS is: the ledger keeps the provider's status beside the send.
        try await harness.setClock(SMSTest.tehran(2024, 11, 23, 10, 5))
        try await SMSTest.poll(harness)
        try await harness.setClock(SMSTest.tehran(2024, 11, 23, 10, 10))
        try await SMSTest.poll(harness)
        _ = try await harness.waitForEvents("sms.status")
        await SMSTest.stop(worker)

        let ledger = SMSLedger(services: try harness.services())
        let once = try await Self.keys(harness.redis, matching: "\(harness.namespace):{*}:once:sms:\(payload.messageID)")
        #expect(once.count == 1)
        let message = try await Self.footprint(harness.redis, [ledger.messageKey(payload.messageID)] + once)
        Self.expect(message, matches: try Self.promise("a sent SMS"), "an SMS's ledger and once-key")

        let caps = try await Self.keys(harness.redis, matching: "\(harness.namespace):{sms}:cap:*")
        #expect(caps.count == 1)
        Self.expect(try await Self.footprint(harness.redis, caps), matches: try Self.promise("its recipient's daily cap"), "a recipient's daily cap")
    }

    @Test func aSentEmailKeepsWhatTheGuideSays() async throws {
        let harness = try await DomainHarness()
        let worker = try await harness.startWorker()
        let payload = EmailSendPayload(
            messageID: "reminder.expiration.email:42:1734294599:10", email: "sara@example.com", name: "سارا", templateID: 17,
            params: ["days_left_text": "۱۰ روز دیگر", "receipt_url": "https://kamva.ir/email/receipt/R-1"], userID: "42",
            purpose: "reminder.expiration")
        _ = try await payload.enqueue(on: harness.jobs)
        _ = try await harness.waitForEvents("email.sent")
        await SMSTest.stop(worker)

        let once = try await Self.keys(harness.redis, matching: "\(harness.namespace):{*}:once:email:\(payload.messageID)")
        #expect(once.count == 1)
        let record = "\(harness.namespace):{email}:msg:\(payload.messageID)"
        Self.expect(try await Self.footprint(harness.redis, [record] + once), matches: try Self.promise("a sent email"), "an email's record and once-key")
    }
}

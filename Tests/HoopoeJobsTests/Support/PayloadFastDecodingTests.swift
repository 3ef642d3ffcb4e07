import Foundation
import HoopoeJSON
import HoopoeJobs
import Testing
import TestSupport

@testable import HoopoeCore

/// The worker reads payloads without JSONDecoder when they are plain (``PlainPayloadDecoder``): for every domain
/// payload type, its sample and variants of it (each member removed, null, a number, a string, an array) give
/// JSONDecoder's value whenever the fast reader answers, and the samples themselves are answered.
@Suite("Domain payloads: the worker's fast payload reader agrees with JSONDecoder")
struct PayloadFastDecodingTests {
    private func variants(of sample: String) throws -> [[UInt8]] {
        let url = BuiltProducts.projectRoot.appendingPathComponent("jobs/samples/\(sample).json")
        let original = try Data(contentsOf: url)
        var result = [Array(original)]
        guard case .object(let members) = try #require(JSONValue.parse(Array(original))) else { return result }
        for key in members.keys.sorted() {
            var removed = members
            removed[key] = nil
            result.append(JSONValue.object(removed).encoded())
            for replacement: JSONValue in [.null, .integer(7), .double(1.5), .string("x"), .array([]), .bool(true)] {
                var changed = members
                changed[key] = replacement
                result.append(JSONValue.object(changed).encoded())
            }
        }
        return result
    }

    /// Returns whether the fast reader answered the sample itself.
    private func agrees<P: Decodable>(_ type: P.Type, _ sample: String, same: (P, P) throws -> Bool) throws -> Bool {
        var answeredSample = false
        for (index, bytes) in try variants(of: sample).enumerated() {
            let plain = try? PlainPayloadDecoder.value(type, from: bytes, range: 0..<bytes.count)
            let full = try? JSONDecoder().decode(type, from: Data(bytes))
            guard let plain else { continue }
            if index == 0 { answeredSample = true }
            let text = String(decoding: bytes, as: UTF8.self)
            guard let full else {
                Issue.record("\(sample): the fast reader took what JSONDecoder refuses: \(text)")
                continue
            }
            #expect(try same(plain, full), "\(sample): \(text)")
        }
        return answeredSample
    }

    private func encodedAlike<P: Codable>(_ type: P.Type, _ sample: String) throws -> Bool {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return try agrees(type, sample) { try encoder.encode($0) == encoder.encode($1) }
    }

    @Test func everyDomainPayloadType() throws {
        let answered = [
            "sms.send": try encodedAlike(SMSSendPayload.self, "sms.send"),
            "sms.delivery_poll": try encodedAlike(SMSDeliveryPollJob.Payload.self, "sms.delivery_poll"),
            "gift.granted": try encodedAlike(GiftGrantedJob.Payload.self, "gift.granted"),
            "gift.expire": try encodedAlike(GiftExpireJob.Payload.self, "gift.expire"),
            "gift.used": try encodedAlike(GiftUsedJob.Payload.self, "gift.used"),
            "subscription.upsert": try encodedAlike(SubscriptionUpsertJob.Payload.self, "subscription.upsert"),
            "subscription.delete": try encodedAlike(SubscriptionDeleteJob.Payload.self, "subscription.delete"),
            "credit.threshold.set": try encodedAlike(CreditThresholdSetJob.Payload.self, "credit.threshold.set"),
            "credit.threshold.delete": try encodedAlike(CreditThresholdDeleteJob.Payload.self, "credit.threshold.delete"),
            "credit.balance": try encodedAlike(CreditBalanceJob.Payload.self, "credit.balance"),
            "freecredit.request": try encodedAlike(FreeCreditRequestJob.Payload.self, "freecredit.request"),
            "sendinblue.register": try encodedAlike(SendinblueRegisterPayload.self, "sendinblue.register"),
            "email.send": try encodedAlike(EmailSendPayload.self, "email.send"),
            "reminders.expiration": try agrees(ReminderTick.self, "reminders.expiration") { $0.tick == $1.tick },
            "reminders.low_credit": try agrees(ReminderTick.self, "reminders.low_credit") { $0.tick == $1.tick },
        ]
        // The samples are plain JSON of the documented shapes: the worker reads them without JSONDecoder.
        #expect(answered.filter { !$0.value }.keys.sorted() == [], "samples the fast reader declined")
    }
}

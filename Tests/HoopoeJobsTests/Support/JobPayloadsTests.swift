import Foundation
import HoopoeCore
import HoopoeJSON
import HoopoeJobs
import Testing
import TestSupport

/// Domain payloads name their job type once (``JobPayload``) and are enqueued typed: what the engine writes is what
/// the handler decodes, for the payloads whose encoding is written by hand too.
@Suite("Domain payloads: typed enqueue")
struct JobPayloadsTests {
    @Test("a typed sms.send is enqueued under its payload's type and decodes to the same message")
    func smsSendRoundTrip() async throws {
        let h = try await DomainHarness()
        let message = SMSSendPayload(
            messageID: "m-1", phone: "09121234567", template: "expiration_reminder",
            tokens: ["token3": "https://kamva.ir/email/receipt/R-1", "token10": "سارا"], userID: "176", purpose: "test")
        let result = try await message.enqueue(on: h.jobs, id: "typed-1")
        #expect(result.createdID == "typed-1")
        let found = try #require(try await h.jobs.find(id: "typed-1", queue: "default"))
        #expect(found.envelope.type == SMSSendJob.type && SMSSendJob.type == "sms.send")
        #expect(try JSONDecoder().decode(SMSSendPayload.self, from: Data(found.envelope.payload.encoded())) == message)
        // Slashes stay unescaped, as the untyped path wrote them.
        #expect(String(decoding: found.envelope.payload.encoded(), as: UTF8.self).contains("https://kamva.ir/"))
    }

    @Test("sendinblue.register: the encoded payload decodes to the same registration (plan credits as {email, sms})")
    func sendinblueRegisterRoundTrip() throws {
        let url = BuiltProducts.projectRoot.appendingPathComponent("jobs/samples/sendinblue.register.json")
        let payload = try JSONDecoder().decode(SendinblueRegisterPayload.self, from: Data(contentsOf: url))
        let again = try JSONDecoder().decode(SendinblueRegisterPayload.self, from: JSONEncoder().encode(payload))
        #expect(again == payload)
        #expect(SendinblueRegisterJob.type == "sendinblue.register")
    }

    @Test("expires_at encodes in the form it came in")
    func expiryDateKeepsItsForm() throws {
        for value in [ExpiryDate.seconds(1_734_294_599), .text("1403-09-25"), .text("2024-12-15T20:30:00+03:30")] {
            #expect(try JSONDecoder().decode(ExpiryDate.self, from: JSONEncoder().encode(value)) == value)
        }
    }
}

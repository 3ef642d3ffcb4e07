import Foundation
import HoopoeJobs
import Testing

@testable import HoopoeCore

/// jobs/EVENTS.md: "A payload may send an id as a number or a string (`"user_id": 176` or `"176"`) … the event carries
/// `"176"` either way". `sms.send` and `email.send` read `user_id` as a string only, and a numeric one sent the message
/// to the dead set, unsent.
@Suite struct SendPayloadUserIDTests {
    /// Decoded as the worker does: the plain decoder, or (when it declines) `JSONDecoder`.
    private func decoded<T: Decodable>(_ type: T.Type, _ json: String) throws -> [T] {
        let bytes = Array(json.utf8)
        var values = [try JSONDecoder().decode(T.self, from: Data(bytes))]
        if let plain = try? PlainPayloadDecoder.value(T.self, from: bytes, range: 0..<bytes.count) { values.append(plain) }
        return values
    }

    @Test(arguments: ["176", "\"176\""]) func aNumericOrTextUserIDIsKeptAsText(id: String) throws {
        let sms = try decoded(SMSSendPayload.self, #"{"message_id":"m-1","phone":"09121234567","template":"t","tokens":{"token":"1"},"user_id":\#(id)}"#)
        #expect(sms.map(\.userID) == Array(repeating: "176", count: sms.count))
        let email = try decoded(
            EmailSendPayload.self, #"{"message_id":"m-1","email":"a@example.com","template_id":7,"params":{},"user_id":\#(id),"purpose":"p"}"#)
        #expect(email.map(\.userID) == Array(repeating: "176", count: email.count))
        #expect(email.first?.templateID == 7 && email.first?.purpose == "p")
    }

    @Test func otherFieldsAreReadAsBefore() throws {
        let sms = try decoded(SMSSendPayload.self, #"{"message_id":"m-1","phone":"09121234567","template":"t","tokens":{"token":"1"}}"#)
        #expect(sms.first == SMSSendPayload(messageID: "m-1", phone: "09121234567", template: "t", tokens: ["token": "1"]))
        #expect(throws: (any Error).self) { try JSONDecoder().decode(SMSSendPayload.self, from: Data(#"{"message_id":"m","phone":"0912","template":"t"}"#.utf8)) }
        #expect(throws: (any Error).self) {
            try JSONDecoder().decode(SMSSendPayload.self, from: Data(#"{"message_id":"m","phone":"0912","template":"t","tokens":{},"user_id":1.5}"#.utf8))
        }
    }
}

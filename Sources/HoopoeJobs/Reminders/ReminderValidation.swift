import Foundation

/// Checks shared by the reminder payloads; each failure is a permanent job failure naming the field.
enum ReminderValidation {
    static func userID(_ id: DomainID<AnyText>) throws(JobFailureMessage) -> String {
        guard !id.value.isEmpty, id.value.count <= 200, !id.value.contains(where: { $0.isNewline }) else {
            throw JobFailureMessage("user_id must be a non-empty string or number (at most 200 characters)")
        }
        return id.value
    }

    /// `sms.send`'s own rule (``SMSPayloadCheck/nationalMobile(_:)``), so a number it would refuse is refused when
    /// the subscription or threshold arrives, not weeks later when its reminder is due. Stored as `09…`.
    static func phone(_ text: String) throws(JobFailureMessage) -> String {
        guard let national = SMSPayloadCheck.nationalMobile(text) else {
            throw JobFailureMessage("phone must be an Iranian mobile number like 09121234567 or +989121234567")
        }
        return national
    }

    /// A first name as Kavenegar's token10 takes it, made so where it enters, not refused weeks later by every
    /// reminder: letters, digits and `-` kept, anything else a space, at most 6 words (5 spaces) and 100 characters
    /// (``SMSTokenText``, as the gift reminder's service name). Only separators and whitespace became spaces before,
    /// so `Sara 🌸` passed here and Kavenegar refused every reminder of hers with 422, for good.
    ///
    /// A name with no letter or digit at all (only emoji or punctuation) is refused, naming why: a neutral word in its
    /// place would greet the user with something they never wrote, and the service can send a better name.
    static func firstName(_ text: String) throws(JobFailureMessage) -> String {
        let name = SMSTokenText.words(text, maxSpaces: 5)
        guard !name.isEmpty else {
            throw JobFailureMessage(
                text.allSatisfy(\.isWhitespace)
                    ? "first_name must not be empty"
                    : "first_name must hold a letter or a digit: the SMS keeps only letters, digits and - of it "
                        + "(Kavenegar refuses emoji and punctuation)")
        }
        return name
    }

    /// An id kept in keys and message ids: letters, digits, `_`, `-`, `.`.
    static func token(_ text: String, field: String) throws(JobFailureMessage) -> String {
        guard !text.isEmpty, text.count <= 64, text.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "_-.".contains($0)) }) else {
            throw JobFailureMessage("\(field) must be 1-64 letters, digits, _ - or .")
        }
        return text
    }

    /// A receipt id, which goes into the reminder SMS's link token: ASCII letters, digits, `-`, `.`. No `_`:
    /// Kavenegar refuses a token with an underscore (431).
    static func receiptID(_ text: String) throws(JobFailureMessage) -> String {
        guard !text.isEmpty, text.count <= 64, text.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-.".contains($0)) }) else {
            throw JobFailureMessage("receipt_id must be 1-64 ASCII letters, digits, - or . (it goes into the reminder SMS's link token, where Kavenegar refuses _ and spaces: 431)")
        }
        return text
    }
}

/// A reason a payload is refused, turned into ``JobFailure/permanent(_:)`` by the handler.
struct JobFailureMessage: Error, Sendable {
    let message: String
    init(_ message: String) { self.message = message }
}

/// `email.sent`: Brevo accepted the email (`email.send`).
struct EmailSent: DomainEvent {
    static let name = "email.sent"
    var messageID: String
    var provider = "brevo"
    var brevoMessageID: String
    var templateID: Int64
    /// True when it was found in Brevo's events after a lost answer.
    var reconciled: Bool
    var userID: String?
    var purpose: String?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case messageID = "message_id", provider, brevoMessageID = "brevo_message_id", templateID = "template_id", reconciled,
            userID = "user_id", purpose
    }
}

/// `email.failed`: the email will not be sent (`email.send`).
struct EmailFailed: DomainEvent {
    static let name = "email.failed"
    var messageID: String
    var reason: String
    var userID: String?
    var purpose: String?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case messageID = "message_id", reason, userID = "user_id", purpose
    }
}

/// `sms.sent`: a provider accepted the message (`sms.send`).
struct SMSSent: DomainEvent {
    static let name = "sms.sent"
    var messageID: String
    var provider: String
    var providerMessageIDs: [String]
    var userID: OrNull<String>
    var purpose: OrNull<String>
    /// The link-free variant that went out instead (Kavenegar 420); absent otherwise.
    var template: String?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case messageID = "message_id", provider, providerMessageIDs = "provider_message_ids", userID = "user_id", purpose, template
    }
}

/// `sms.failed`: the message will not be sent (`sms.send`).
struct SMSFailed: DomainEvent {
    static let name = "sms.failed"
    var messageID: String
    var reason: String
    var userID: OrNull<String>
    var purpose: OrNull<String>

    enum CodingKeys: String, CodingKey, CaseIterable {
        case messageID = "message_id", reason, userID = "user_id", purpose
    }
}

/// `sms.status`: a message's delivery state changed (`sms.delivery_poll`).
struct SMSStatusChanged: DomainEvent {
    static let name = "sms.status"
    var messageID: String
    var provider: String
    var state: String
    var rawStatus: String

    enum CodingKeys: String, CodingKey, CaseIterable {
        case messageID = "message_id", provider, state, rawStatus = "raw_status"
    }
}

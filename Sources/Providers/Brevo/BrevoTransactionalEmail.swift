import HoopoeJSON

/// One transactional email from a Brevo template (`POST /v3/smtp/email` with `templateId` and `params`).
///
/// The template (built in Brevo's editor) carries the sender, the subject and the Persian text; `params` fill its
/// `{{ params.NAME }}` placeholders. Two fields make a lost answer survivable:
/// - `headers.idempotencyKey`: Brevo refuses a request whose key it saw in the last 15 (changelog 2021) to 30
///   (current guide) minutes with 400 `duplicate_parameter`, unprocessed, so a re-send inside that window cannot
///   mail twice (the refusal alone does not prove the earlier one was accepted: `EmailSendJob` asks the events
///   report, decision record 0014);
/// - `tags`: the caller's message id, which `GET /v3/smtp/statistics/events?tags=…` finds again later (the
///   `messageId` Brevo answers with is lost with the answer).
public struct BrevoTransactionalEmail: Sendable, Equatable {
    /// The recipient.
    public var toEmail: String
    /// The recipient's name, shown in the `To:` header; nil to leave it out.
    public var toName: String?
    /// The template id (a positive integer in Brevo).
    public var templateID: Int64
    /// Template parameters.
    public var params: [String: String]
    /// The caller's message id, sent as the only tag and used to derive the idempotency key.
    public var tag: String
    /// `headers.idempotencyKey`; unique per message and, as Brevo's guide asks, a UUID.
    public var idempotencyKey: String

    public init(toEmail: String, toName: String?, templateID: Int64, params: [String: String], tag: String, idempotencyKey: String) {
        self.toEmail = toEmail
        self.toName = toName
        self.templateID = templateID
        self.params = params
        self.tag = tag
        self.idempotencyKey = idempotencyKey
    }

    /// The request body. No `params` for a template without placeholders: Brevo refuses `"params": {}` with 400
    /// `missing_parameter` "params is blank" (sendinblue/APIv3-nodejs-library#103), and the email was lost for good.
    var body: JSONValue {
        var to: [String: JSONValue] = ["email": .string(toEmail)]
        if let toName, !toName.isEmpty { to["name"] = .string(toName) }
        var body: [String: JSONValue] = [
            "to": .array([.object(to)]),
            "templateId": .integer(templateID),
            "tags": [.string(tag)],
            "headers": ["idempotencyKey": .string(idempotencyKey)],
        ]
        if !params.isEmpty { body["params"] = .object(params.mapValues(JSONValue.string)) }
        return .object(body)
    }
}

/// One row of `GET /v3/smtp/statistics/events` (the transactional email activity).
public struct BrevoEmailEvent: Sendable, Equatable {
    /// `requests` (Brevo accepted the send), `delivered`, `hardBounces`, `softBounces`, `blocked`, …
    public var event: String
    /// The `messageId` Brevo gave the email.
    public var messageID: String
    /// The tag the email carried, if any.
    public var tag: String?

    public init(event: String, messageID: String, tag: String?) {
        self.event = event
        self.messageID = messageID
        self.tag = tag
    }

    init?(json: JSONValue) {
        guard let event = json["event"]?.stringValue, let id = json["messageId"]?.stringValue else { return nil }
        self.init(event: event, messageID: id, tag: json["tag"]?.stringValue)
    }
}

import HoopoeJSON
/// One row of `GET /api/report/recipients`: a recipient's delivery status (docs/providers.md §3.4.4, §3.6).
public struct IPPanelRecipientStatus: Sendable, Hashable {
    /// `recipient`.
    public var recipient: String
    /// `message`.
    public var message: String
    /// `is_readable`.
    public var isReadable: Bool?
    /// `msg_parts`.
    public var messageParts: String?
    /// `message_status`, raw (`"0"`…`"4"`); empty while the bulk is not final (the report lists recipients without it).
    public var messageStatus: String

    /// ``messageStatus`` in the shared vocabulary.
    public var deliveryState: DeliveryState { .ippanel(messageStatus) }

    /// Creates a row.
    public init(recipient: String, message: String, isReadable: Bool?, messageParts: String?, messageStatus: String) {
        self.recipient = recipient
        self.message = message
        self.isReadable = isReadable
        self.messageParts = messageParts
        self.messageStatus = messageStatus
    }

    init(json: JSONValue) {
        self.init(
            recipient: json["recipient"]?.stringValue ?? "",
            message: json["message"]?.stringValue ?? "",
            isReadable: json["is_readable"]?.boolValue,
            messageParts: json["msg_parts"]?.stringValue,
            messageStatus: json["message_status"]?.stringValue ?? "")
    }
}

/// One page of the recipients report. Rows carry a `message_status` only once the bulk reaches a final state.
public struct IPPanelRecipientsPage: Sendable, Hashable {
    /// The rows.
    public var recipients: [IPPanelRecipientStatus]
    /// `meta.current_page`.
    public var currentPage: Int?
    /// `meta.last_page`.
    public var lastPage: Int?
    /// `meta.total`.
    public var total: Int?

    /// Creates a page.
    public init(recipients: [IPPanelRecipientStatus], currentPage: Int?, lastPage: Int?, total: Int?) {
        self.recipients = recipients
        self.currentPage = currentPage
        self.lastPage = lastPage
        self.total = total
    }
}

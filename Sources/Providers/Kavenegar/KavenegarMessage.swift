import HoopoeJSON
/// One message as Kavenegar returns it from `sms/send` and `verify/lookup`.
public struct KavenegarMessage: Sendable, Hashable {
    /// `messageid`: store it, it is the input of `sms/status`.
    public var messageID: Int64
    /// `message`: the text sent (for a lookup, the filled template).
    public var message: String
    /// `status`: Table 2 code (docs/providers.md §2.7).
    public var status: Int
    /// `statustext` (Persian).
    public var statusText: String
    /// `sender` line.
    public var sender: String
    /// `receptor`, as the provider echoes it.
    public var receptor: String
    /// `date` (Unix seconds).
    public var date: Int64?
    /// `cost` in Rial.
    public var cost: Int64?

    /// ``status`` in the shared vocabulary.
    public var deliveryState: DeliveryState { .kavenegar(status) }

    /// Creates a message record.
    public init(
        messageID: Int64, message: String, status: Int, statusText: String, sender: String, receptor: String,
        date: Int64?, cost: Int64?
    ) {
        self.messageID = messageID
        self.message = message
        self.status = status
        self.statusText = statusText
        self.sender = sender
        self.receptor = receptor
        self.date = date
        self.cost = cost
    }

    /// Decodes one `entries` item, accepting numbers written as strings; nil without a `messageid`.
    init?(json: JSONValue) {
        guard let id = json["messageid"]?.int64Value else { return nil }
        self.init(
            messageID: id,
            message: json["message"]?.stringValue ?? "",
            status: Int(json["status"]?.int64Value ?? 0),
            statusText: json["statustext"]?.stringValue ?? "",
            sender: json["sender"]?.stringValue ?? "",
            receptor: json["receptor"]?.stringValue ?? "",
            date: json["date"]?.int64Value,
            cost: json["cost"]?.int64Value
        )
    }
}

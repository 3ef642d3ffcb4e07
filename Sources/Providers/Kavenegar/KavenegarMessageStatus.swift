import HoopoeJSON
/// One row of `sms/status`: a message's Table 2 status.
public struct KavenegarMessageStatus: Sendable, Hashable {
    /// `messageid`.
    public var messageID: Int64
    /// `status` (Table 2); `100` for ids Kavenegar no longer (or never) knows.
    public var status: Int
    /// `statustext` (Persian).
    public var statusText: String

    /// ``status`` in the shared vocabulary.
    public var deliveryState: DeliveryState { .kavenegar(status) }

    /// Creates a status row.
    public init(messageID: Int64, status: Int, statusText: String) {
        self.messageID = messageID
        self.status = status
        self.statusText = statusText
    }

    /// Decodes one `entries` item; nil without a `messageid`.
    init?(json: JSONValue) {
        guard let id = json["messageid"]?.int64Value else { return nil }
        self.init(
            messageID: id, status: Int(json["status"]?.int64Value ?? 0), statusText: json["statustext"]?.stringValue ?? "")
    }
}

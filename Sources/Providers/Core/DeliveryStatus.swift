/// The delivery status of one SMS, as reported by its provider.
public struct DeliveryStatus: Sendable, Hashable {
    /// Which provider reported it.
    public var provider: ProviderName
    /// The provider's message id (Kavenegar `messageid`, IPPanel bulk id), as text.
    public var messageID: String
    /// The recipient, when the provider reports it (IPPanel does; Kavenegar `sms/status` does not).
    public var recipient: String?
    /// The shared state.
    public var state: DeliveryState
    /// The provider's raw code, unchanged (Kavenegar `status` such as `"10"`, IPPanel `message_status` such as
    /// `"2"`, or `"state_id:8"` for an IPPanel bulk that never produced per-recipient statuses).
    public var rawCode: String
    /// The provider's status text, if any (Kavenegar `statustext`, Persian).
    public var statusText: String?

    /// Creates a status.
    public init(
        provider: ProviderName,
        messageID: String,
        recipient: String? = nil,
        state: DeliveryState,
        rawCode: String,
        statusText: String? = nil
    ) {
        self.provider = provider
        self.messageID = messageID
        self.recipient = recipient
        self.state = state
        self.rawCode = rawCode
        self.statusText = statusText
    }
}

/// What an SMS job needs from a provider: send one templated message, then poll its delivery.
///
/// Kavenegar (`verify/lookup`), IPPanel (pattern send) and the dry-run sender implement it, so a job can hold an
/// ordered list of senders and fall back from one to the next when a send fails with a non-permanent disposition
/// or a delivery ends `failed`/`undelivered`. Templates are defined per provider (a Kavenegar template name and an
/// IPPanel pattern code differ, and so do their placeholder names), so a fallback builds one ``TemplateSMS`` per
/// sender.
public protocol SMSSender: Sendable {
    /// The provider behind this sender.
    var provider: ProviderName { get }

    /// Sends one templated message to one receptor and returns the provider's message ids.
    func sendTemplate(_ message: TemplateSMS) async throws -> SMSReceipt

    /// Reports the delivery state of messages previously returned in ``SMSReceipt/messageIDs``.
    func deliveryStatus(of messageIDs: [String]) async throws -> [DeliveryStatus]
}

/// One templated message for one receptor.
public struct TemplateSMS: Sendable, Hashable {
    /// The receptor. Kavenegar accepts `09…`, `+98…`, `0098…`; IPPanel wants E.164 with `+`.
    public var receptor: String
    /// Kavenegar template name, or IPPanel pattern code.
    public var template: String
    /// Placeholder values. Kavenegar keys: `token`, `token2`, `token3`, `token10`, `token20`; IPPanel keys: the
    /// pattern's own placeholder names.
    public var parameters: [String: String]

    /// Creates a message.
    public init(receptor: String, template: String, parameters: [String: String]) {
        self.receptor = receptor
        self.template = template
        self.parameters = parameters
    }
}

/// What a provider accepted.
public struct SMSReceipt: Sendable, Hashable {
    /// Who accepted it.
    public var provider: ProviderName
    /// Ids to poll with ``SMSSender/deliveryStatus(of:)`` (Kavenegar `messageid`s, IPPanel bulk ids).
    public var messageIDs: [String]
    /// Initial states where the provider reports them on send (Kavenegar does); otherwise `pending`.
    public var initialStates: [DeliveryState]

    /// Creates a receipt.
    public init(provider: ProviderName, messageIDs: [String], initialStates: [DeliveryState]) {
        self.provider = provider
        self.messageIDs = messageIDs
        self.initialStates = initialStates
    }
}

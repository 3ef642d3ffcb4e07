/// A failed provider call, classified for the job system.
///
/// Carries the provider's own code and message unchanged (so an operator can look them up in the provider's
/// documentation), the ``Disposition`` from the provider's table in docs/providers.md, and whether the request may have
/// taken effect anyway (``outcomeUnknown``). Every string in it is already redacted: no API key, and the request URL
/// with the Kavenegar key replaced by `[REDACTED]`.
public struct ProviderError: Error, Sendable, CustomStringConvertible {
    /// Broad category of the failure, independent of the provider.
    public struct Kind: Sendable, Hashable, CustomStringConvertible {
        private enum Backing: String, Sendable, Hashable {
            case rejected
            case invalidRequest
            case timeout
            case connectionFailed
            case transport
            case unparseableResponse
            case staleIdentifier
        }
        private let backing: Backing
        private init(_ backing: Backing) { self.backing = backing }

        /// The provider answered with an error code (its code is in ``ProviderError/code``).
        public static var rejected: Self { .init(.rejected) }
        /// The request was refused locally, before sending, because the provider would reject it (e.g. a token
        /// that would give Kavenegar `431`). ``ProviderError/code`` is the provider code it avoided.
        public static var invalidRequest: Self { .init(.invalidRequest) }
        /// The request exceeded its deadline (connect or total).
        public static var timeout: Self { .init(.timeout) }
        /// The connection could not be made (refused, reset, DNS, TLS).
        public static var connectionFailed: Self { .init(.connectionFailed) }
        /// Any other transport failure.
        public static var transport: Self { .init(.transport) }
        /// The provider answered, but not with its documented envelope; classified by HTTP status.
        public static var unparseableResponse: Self { .init(.unparseableResponse) }
        /// The provider does not know an id we stored (Brevo `404`): a data-integrity warning on top of the
        /// permanent failure.
        public static var staleIdentifier: Self { .init(.staleIdentifier) }

        public var description: String { backing.rawValue }
    }

    /// Which provider failed.
    public var provider: ProviderName
    /// The operation, e.g. `verify/lookup`, `send/pattern`, `reseller/createChild`.
    public var operation: String
    /// Broad category of the failure.
    public var kind: Kind
    /// The provider's own code: Kavenegar `return.status` (`"418"`), IPPanel `meta.message_code` (`"400-2"`),
    /// Brevo `code` (`"not_enough_credits"`); the HTTP status for an unparseable body; `"timeout"`,
    /// `"connection-failed"` or `"transport"` when nothing was received, `"pool-busy"` when the request waited for one
    /// of this process's connections to the provider past the call's limits and was never sent.
    public var code: String
    /// The provider's message (redacted), or a description of the transport failure.
    public var message: String
    /// What the worker should do next.
    public var disposition: Disposition
    /// True when the request may have taken effect although it failed (timeout or 5xx on a call without a dedupe
    /// key: Kavenegar `verify/lookup`, IPPanel sends, Brevo create-child and add-credits). Reconcile before re-sending.
    public var outcomeUnknown: Bool
    /// The HTTP status, when a response was received.
    public var httpStatus: Int?
    /// The request URL with secrets replaced by `[REDACTED]`.
    public var redactedURL: String
    /// A cap the provider table sets on the attempts that end in this failure, if any: Kavenegar `402` ~3;
    /// `verify/lookup` after an unknown outcome 2; Brevo `409` 2 (retry once). `sms.send` (per message) and
    /// `sendinblue.register` (per user and operation) count the provider's answers with a capped code and give up on
    /// that provider once the cap is reached; a lookup's unknown outcomes are capped by `sms.send`'s own count.
    public var suggestedMaxAttempts: Int?
    /// Rate-limit headers sent with the failing response (Brevo).
    public var rateLimit: ProviderRateLimit?

    /// Creates an error; callers pass strings that are already redacted.
    public init(
        provider: ProviderName,
        operation: String,
        kind: Kind,
        code: String,
        message: String,
        disposition: Disposition,
        outcomeUnknown: Bool = false,
        httpStatus: Int? = nil,
        redactedURL: String = "",
        suggestedMaxAttempts: Int? = nil,
        rateLimit: ProviderRateLimit? = nil
    ) {
        self.provider = provider
        self.operation = operation
        self.kind = kind
        self.code = code
        self.message = message
        self.disposition = disposition
        self.outcomeUnknown = outcomeUnknown
        self.httpStatus = httpStatus
        self.redactedURL = redactedURL
        self.suggestedMaxAttempts = suggestedMaxAttempts
        self.rateLimit = rateLimit
    }

    public var description: String {
        var text = "\(provider) \(operation) failed: [\(code)] \(message) (\(kind)"
        if let httpStatus { text += ", HTTP \(httpStatus)" }
        text += ", disposition \(disposition)"
        if outcomeUnknown { text += ", outcome unknown" }
        if !redactedURL.isEmpty { text += ", url \(redactedURL)" }
        return text + ")"
    }
}

/// An `sms/send` request: one text to up to 200 receptors, each with its own `localid`.
///
/// `localid` is required here (docs/providers.md §2.5 "Always send `localid`"): Kavenegar does not send again for a
/// `localid` it already has and returns the existing record, which makes a retry after a timeout safe.
public struct KavenegarSend: Sendable, Hashable {
    /// Largest receptor count per call (else `414`).
    public static let maximumReceptors = 200
    /// Longest text, in characters (else `413`).
    public static let maximumMessageLength = 900

    /// Receptors (sent comma-separated).
    public var receptors: [String]
    /// Text, UTF-8.
    public var message: String
    /// One dedupe id per receptor (your job/message id); sent comma-separated as `localid`.
    public var localIDs: [String]
    /// Dedicated line; nil uses the client's configured line, or the account default if none is configured.
    public var sender: String?
    /// Scheduled send time (Unix seconds); nil sends now.
    public var date: Int64?
    /// Display type (Table 3, `3000…` lines only).
    public var type: Int?
    /// `hide=1` hides the receptor in the outbox and web console.
    public var hide: Bool
    /// `tag` created in the panel first.
    public var tag: String?
    /// `policy`: a send flow defined on the account.
    public var policy: String?

    /// Creates a send request.
    public init(
        receptors: [String],
        message: String,
        localIDs: [String],
        sender: String? = nil,
        date: Int64? = nil,
        type: Int? = nil,
        hide: Bool = false,
        tag: String? = nil,
        policy: String? = nil
    ) {
        self.receptors = receptors
        self.message = message
        self.localIDs = localIDs
        self.sender = sender
        self.date = date
        self.type = type
        self.hide = hide
        self.tag = tag
        self.policy = policy
    }

    /// Form fields in the order sent, given the effective sender.
    func formFields(sender: String?) -> [(String, String)] {
        var fields: [(String, String)] = [("receptor", receptors.joined(separator: ",")), ("message", message)]
        if let sender { fields.append(("sender", sender)) }
        if let date { fields.append(("date", String(date))) }
        if let type { fields.append(("type", String(type))) }
        fields.append(("localid", localIDs.joined(separator: ",")))
        if hide { fields.append(("hide", "1")) }
        if let tag { fields.append(("tag", tag)) }
        if let policy { fields.append(("policy", policy)) }
        return fields
    }

    /// The first rule this request breaks, as the Kavenegar code it would produce; nil if it may be sent.
    func violation() -> KavenegarTokenRules.Violation? {
        if receptors.isEmpty || receptors.contains(where: \.isEmpty) {
            return .init(code: 406, reason: "receptor is empty")
        }
        if receptors.count > Self.maximumReceptors {
            return .init(code: 414, reason: "more than \(Self.maximumReceptors) receptors; split the list")
        }
        if message.isEmpty || message.count > Self.maximumMessageLength {
            return .init(code: 413, reason: "message must be 1–\(Self.maximumMessageLength) characters")
        }
        if localIDs.count != receptors.count || localIDs.contains(where: { $0.isEmpty || $0.contains(",") }) {
            // No Kavenegar code is documented for a localid/receptor count mismatch; 400 (parameters incomplete).
            return .init(code: 400, reason: "need exactly one non-empty localid per receptor")
        }
        if let tag, let violation = KavenegarTagRules.violation(in: tag) { return violation }
        return nil
    }
}

/// A `verify/lookup` request: a templated OTP or transactional message to one receptor.
///
/// Highest-priority route, not filtered by promotional blocks, needs a template approved in the panel. It has no
/// `localid`: a retry after an unknown outcome may send a second message, so the client caps such retries at 2
/// (docs/providers.md §2.4.5 "Idempotency").
public struct KavenegarLookup: Sendable, Hashable {
    /// How the code is delivered.
    public enum Delivery: String, Sendable, Hashable {
        /// Text message (the default; not sent on the wire).
        case sms
        /// Voice call; needs a digits-only `token` (else `428`).
        case call
    }

    /// One number; international numbers as `00` + country code.
    public var receptor: String
    /// Template name as defined in the panel.
    public var template: String
    /// `token` (required): no spaces, ≤ 100 characters.
    public var token: String
    /// `token2`: same rules as `token`.
    public var token2: String?
    /// `token3`: same rules as `token`.
    public var token3: String?
    /// `token10`: up to 5 spaces.
    public var token10: String?
    /// `token20`: up to 8 spaces.
    public var token20: String?
    /// `type`: sms (default) or call.
    public var delivery: Delivery
    /// `tag`: a tag created in the panel first.
    public var tag: String?

    /// Creates a lookup request.
    public init(
        receptor: String,
        template: String,
        token: String,
        token2: String? = nil,
        token3: String? = nil,
        token10: String? = nil,
        token20: String? = nil,
        delivery: Delivery = .sms,
        tag: String? = nil
    ) {
        self.receptor = receptor
        self.template = template
        self.token = token
        self.token2 = token2
        self.token3 = token3
        self.token10 = token10
        self.token20 = token20
        self.delivery = delivery
        self.tag = tag
    }

    /// Form fields in the order sent.
    var formFields: [(String, String)] {
        var fields: [(String, String)] = [("receptor", receptor), ("template", template), ("token", token)]
        if let token2 { fields.append(("token2", token2)) }
        if let token3 { fields.append(("token3", token3)) }
        if let token10 { fields.append(("token10", token10)) }
        if let token20 { fields.append(("token20", token20)) }
        if delivery == .call { fields.append(("type", "call")) }
        if let tag { fields.append(("tag", tag)) }
        return fields
    }

    /// The first rule this request breaks, as the Kavenegar code it would produce; nil if it may be sent.
    func violation() -> KavenegarTokenRules.Violation? {
        if receptor.isEmpty { return .init(code: 406, reason: "receptor is empty") }
        if receptor.contains(",") { return .init(code: 411, reason: "verify/lookup takes exactly one receptor") }
        if template.isEmpty { return .init(code: 406, reason: "template is empty") }
        let tokens: [(String, String?, Int)] = [
            ("token", token, 0), ("token2", token2, 0), ("token3", token3, 0), ("token10", token10, 5),
            ("token20", token20, 8),
        ]
        for (name, value, spaces) in tokens {
            if let value, let violation = KavenegarTokenRules.violation(in: value, name: name, allowedSpaces: spaces) {
                return violation
            }
        }
        if delivery == .call && !KavenegarTokenRules.isCallable(token) {
            return .init(code: 428, reason: "type=call needs a digits-only token")
        }
        if let tag, let violation = KavenegarTagRules.violation(in: tag) { return violation }
        return nil
    }
}

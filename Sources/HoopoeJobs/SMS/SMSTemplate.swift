/// One logical SMS template (`expiration_reminder`, …) as each provider knows it.
///
/// Jobs name a logical template and pass Kavenegar token values; the templates file (jobs/sms_templates.yaml) says
/// which Kavenegar `verify/lookup` template that is and which IPPanel pattern replaces it when Kavenegar cannot send,
/// with the pattern's placeholders filled from the Kavenegar tokens. Keeping the mapping in a file lets an operator
/// rename a panel template without a release.
public struct SMSTemplate: Sendable, Equatable {
    /// The logical name jobs use (`SMSSendPayload.template`).
    public var name: String
    /// The Kavenegar template name as defined (and approved) in the panel.
    public var kavenegar: String
    /// The tokens a payload must carry, each with what it holds (for people): `token10` → `first name`.
    public var tokens: [String: String]
    /// The IPPanel fallback, if this template has one.
    public var ippanel: IPPanelPattern?
    /// A link-free template (its logical name) to send instead when Kavenegar refuses this one's link with `420`
    /// ("using links is restricted for this account") and no other provider took it. Its tokens are a subset of
    /// this template's, so the payload fills it.
    public var withoutLinks: String?

    /// An IPPanel pattern and how its placeholders are filled.
    public struct IPPanelPattern: Sendable, Equatable {
        /// The pattern code from the IPPanel panel.
        public var code: String
        /// Pattern placeholder name ← Kavenegar token name.
        public var parameters: [String: String]

        public init(code: String, parameters: [String: String]) {
            self.code = code
            self.parameters = parameters
        }

        /// The pattern's parameter values from a payload's Kavenegar tokens.
        public func values(from tokens: [String: String]) -> [String: String] {
            parameters.compactMapValues { tokens[$0] }
        }
    }

    public init(name: String, kavenegar: String, tokens: [String: String], ippanel: IPPanelPattern? = nil, withoutLinks: String? = nil) {
        self.name = name
        self.kavenegar = kavenegar
        self.tokens = tokens
        self.ippanel = ippanel
        self.withoutLinks = withoutLinks
    }
}

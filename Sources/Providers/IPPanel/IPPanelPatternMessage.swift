import HoopoeJSON
/// A pattern (template) send to exactly one recipient (`sending_type: "pattern"`, docs/providers.md §3.4.1c).
public struct IPPanelPatternMessage: Sendable, Hashable {
    /// Pattern code defined in the panel.
    public var code: String
    /// The one recipient, E.164 with `+`.
    public var recipient: String
    /// Values for the pattern's placeholders.
    public var params: [String: String]
    /// Overrides the configured `from_number`.
    public var fromNumber: String?

    /// Creates a pattern message.
    public init(code: String, recipient: String, params: [String: String], fromNumber: String? = nil) {
        self.code = code
        self.recipient = recipient
        self.params = params
        self.fromNumber = fromNumber
    }

    func body(fromNumber configured: String) -> JSONValue {
        [
            "sending_type": "pattern",
            "from_number": .string(fromNumber ?? configured),
            "code": .string(code),
            "recipients": [.string(recipient)],
            "params": .object(params.mapValues(JSONValue.string)),
        ]
    }

    func violation() -> String? {
        if code.isEmpty { return "pattern code is empty" }
        return IPPanelNumberRules.violation(in: [recipient])
    }
}

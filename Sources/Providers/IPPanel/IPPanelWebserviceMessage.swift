import HoopoeJSON
import Foundation

/// One text to a list of recipients (`sending_type: "webservice"`, docs/providers.md §3.4.1a).
///
/// No dedupe key exists: a timeout leaves the outcome unknown; reconcile through the outbox report before
/// re-sending. The maximum recipient count per call is not documented (docs/providers.md §6.1).
public struct IPPanelWebserviceMessage: Sendable, Hashable {
    /// Text.
    public var message: String
    /// Recipients, E.164 with `+`.
    public var recipients: [String]
    /// When to send; nil sends now. Sent as `YYYY-MM-DD HH:MM:SS` in UTC.
    public var sendTime: Date?
    /// Overrides the configured `from_number`.
    public var fromNumber: String?

    /// Creates a webservice message.
    public init(message: String, recipients: [String], sendTime: Date? = nil, fromNumber: String? = nil) {
        self.message = message
        self.recipients = recipients
        self.sendTime = sendTime
        self.fromNumber = fromNumber
    }

    func body(fromNumber configured: String) -> JSONValue {
        var body: [String: JSONValue] = [
            "sending_type": "webservice",
            "from_number": .string(fromNumber ?? configured),
            "message": .string(message),
            "params": ["recipients": .array(recipients.map(JSONValue.string))],
        ]
        if let sendTime { body["send_time"] = .string(Self.format(sendTime)) }
        return .object(body)
    }

    func violation() -> String? {
        if message.isEmpty { return "message is empty" }
        return IPPanelNumberRules.violation(in: recipients)
    }

    /// `YYYY-MM-DD HH:MM:SS`, UTC.
    static func format(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        func two(_ value: Int?) -> String { value.map { $0 < 10 ? "0\($0)" : "\($0)" } ?? "00" }
        return "\(parts.year ?? 1970)-\(two(parts.month))-\(two(parts.day)) \(two(parts.hour)):\(two(parts.minute)):\(two(parts.second))"
    }
}

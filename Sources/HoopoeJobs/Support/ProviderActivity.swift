import Foundation
import HoopoeCore
import HoopoeJSON

/// What the providers did lately, as the domain jobs recorded it on the events stream (jobs/EVENTS.md), for an
/// operator's view (the dashboard's Providers page): the alerts an operator must act on (`provider.alert`: credit,
/// key, template), the failures that name a provider's refusal (`sms.failed`, `email.failed`, `sendinblue.failed`
/// with their `reason`), and the SMS messages by their latest delivery state (`sms.sent`, `sms.status`, `sms.failed`).
///
/// Built from the newest events only (``EventLog/recent(count:)``), so it costs the same on any history: the counts
/// are of the messages those events mention, not of every message ever sent. Every text passes ``PhoneNumberMask``.
public struct ProviderActivity: Sendable {
    /// One alert or failure.
    public struct Notice: Sendable, Equatable {
        /// The event's name (`provider.alert`, `sms.failed`, …).
        public let event: String
        /// The provider, when the event names one.
        public let provider: String?
        /// The provider's code (`418`, `credit_low`), for alerts.
        public let code: String?
        /// The message or reason, phones masked.
        public let text: String
        /// What it is about (a message or user id), phones masked; nil when the event names nothing.
        public let subject: String?
        /// When (domain Unix seconds).
        public let at: Double
    }

    /// How many messages are in one delivery state.
    public struct StateCount: Sendable, Equatable {
        public let state: String
        public let count: Int
    }

    /// The failure events that carry a provider's refusal in `reason`.
    static let failureEvents: Set<String> = ["sms.failed", "email.failed", "sendinblue.failed"]

    /// Alerts, newest first.
    public let alerts: [Notice]
    /// Failures, newest first.
    public let failures: [Notice]
    /// SMS messages by latest delivery state, most first.
    public let deliveryStates: [StateCount]
    /// How many events this was built from.
    public let eventsRead: Int

    /// - Parameters:
    ///   - events: the newest events, newest first.
    ///   - limit: the most alerts and failures kept.
    public init(events: [EventLog.Recorded], limit: Int = 20) {
        var alerts: [Notice] = []
        var failures: [Notice] = []
        var latest: [String: String] = [:]
        for event in events {
            let data = event.data
            if event.type == "provider.alert", alerts.count < limit {
                alerts.append(Notice(
                    event: event.type, provider: data["provider"]?.stringValue, code: data["code"]?.stringValue,
                    text: PersonalDataMask.mask(data["message"]?.stringValue ?? ""), subject: data["operation"]?.stringValue.map(PersonalDataMask.mask),
                    at: event.at))
            } else if Self.failureEvents.contains(event.type), failures.count < limit {
                failures.append(Notice(
                    event: event.type, provider: data["provider"]?.stringValue, code: nil,
                    text: PersonalDataMask.mask(data["reason"]?.stringValue ?? ""),
                    subject: (data["message_id"]?.stringValue ?? data["user_id"]?.stringValue).map(PersonalDataMask.mask), at: event.at))
            }
            // Newest first: the first event seen of a message is its latest state.
            if let id = data["message_id"]?.stringValue, latest[id] == nil {
                switch event.type {
                case "sms.sent": latest[id] = "sent"
                case "sms.status": latest[id] = data["state"]?.stringValue ?? "unknown"
                case "sms.failed": latest[id] = "failed"
                default: break
                }
            }
        }
        var counts: [String: Int] = [:]
        for state in latest.values { counts[state, default: 0] += 1 }
        self.alerts = alerts
        self.failures = failures
        deliveryStates = counts.map { StateCount(state: $0.key, count: $0.value) }.sorted { ($1.count, $0.state) < ($0.count, $1.state) }
        eventsRead = events.count
    }
}

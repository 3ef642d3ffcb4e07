import Foundation

/// One outcome a domain job reports on the events stream (jobs/EVENTS.md): a value with the event's `name` and its
/// fields as typed properties. ``EventLog`` is the one encoder: it writes `type` (the name), `data` (the fields
/// as JSON, keys sorted) and `at`.
///
/// Each event's `CodingKeys` lists its wire field names, so the fields of every event are known to the code
/// (``DomainEvents/all``) and `jobs/EVENTS.md` is checked against them field by field.
public protocol DomainEvent: Encodable, Sendable {
    /// The stream's `type`, e.g. `sms.sent`. Other services match on it: never rename one in use.
    static var name: String { get }
    /// The wire names of the fields, all of them (some may be left out of one event when they do not apply).
    associatedtype CodingKeys: CodingKey & CaseIterable
}

extension DomainEvent {
    /// Every field name the event can carry.
    static var fieldNames: [String] { CodingKeys.allCases.map(\.stringValue) }
}

/// A field that is always present, as `null` when it has no value (EVENTS.md: "or null"). A plain optional is
/// left out when nil ("when given").
public struct OrNull<Value: Encodable & Sendable>: Encodable, Sendable {
    public var value: Value?

    public init(_ value: Value?) { self.value = value }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        if let value { try container.encode(value) } else { try container.encodeNil() }
    }
}

/// Every event type the domain jobs emit, for the check against jobs/EVENTS.md. (`job.dead` is the engine's.)
enum DomainEvents {
    static let all: [any DomainEvent.Type] = [
        SendinblueRegistered.self, SendinblueFailed.self,
        SMSSent.self, SMSFailed.self, SMSStatusChanged.self,
        EmailSent.self, EmailFailed.self,
        ProviderAlertRaised.self,
        SubscriptionUpserted.self, SubscriptionDeleted.self,
        ExpirationReminderQueued.self, LowCreditReminderQueued.self, ReminderSkipped.self, ReminderRearmed.self,
        CreditThresholdSaved.self, CreditThresholdDeleted.self, CreditBalanceRecorded.self, CreditBalancesRead.self,
        CreditBalanceUnmatched.self,
        GiftExpired.self, GiftRejected.self,
        FreeCreditGranted.self, FreeCreditRejected.self,
    ]
}

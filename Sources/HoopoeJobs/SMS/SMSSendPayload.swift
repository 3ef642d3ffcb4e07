import Foundation
import HoopoeCore
import HoopoeJSON

/// The payload of `sms.send` (jobs/schemas/sms.send.schema.json): the one way any job or service sends an SMS.
///
/// Other jobs (expiration and low-credit reminders, gift reminders) build one of these and enqueue it with
/// ``enqueue(on:)``; services write the same JSON. `message_id` makes a message idempotent: the same id is
/// enqueued at most once (30 days) and sent at most once.
public struct SMSSendPayload: JobPayload, Equatable {
    /// Caller-chosen, unique per message, e.g. `reminder.expiration:42:1735689600:3`. The idempotency key.
    public var messageID: String
    /// The recipient, `09…`, `+98…` or `0098…`.
    public var phone: String
    /// A logical template name from the SMS templates file (jobs/sms_templates.yaml), e.g. `expiration_reminder`.
    public var template: String
    /// Kavenegar token values by name: `token`, `token2`, `token3` (no spaces), `token10` (≤ 5 spaces, names),
    /// `token20` (≤ 8 spaces). The templates file maps them onto IPPanel pattern parameters.
    public var tokens: [String: String]
    /// The user the message is about, carried into the `sms.*` events.
    public var userID: String?
    /// Why it is sent (`reminder.expiration`, `reminder.low_credit`, `gift.reminder`, …), carried into the events.
    public var purpose: String?
    /// Unix seconds (domain time) after which the message is not sent: its text would be wrong by then (an expiration
    /// reminder's "N days left", after its day). A run after it, or one that would put the message off past it (quiet
    /// hours, the daily cap), ends it `failed` with `sms.failed` (reason `outdated`) instead of sending it late.
    public var notAfter: Double?

    enum CodingKeys: String, CodingKey {
        case messageID = "message_id", phone, template, tokens, userID = "user_id", purpose, notAfter = "not_after"
    }

    public init(
        messageID: String, phone: String, template: String, tokens: [String: String], userID: String? = nil, purpose: String? = nil,
        notAfter: Double? = nil
    ) {
        self.messageID = messageID
        self.phone = phone
        self.template = template
        self.tokens = tokens
        self.userID = userID
        self.purpose = purpose
        self.notAfter = notAfter
    }

    /// As the schema has it; `user_id` a string or an integer (the SMM panel numbers its users: `"user_id": 176`), kept as
    /// text (jobs/EVENTS.md: "the event carries `\"176\"` either way"). Read as a string only, a numeric id sent the job
    /// to the dead set and the message was never sent.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        messageID = try c.decode(String.self, forKey: .messageID)
        phone = try c.decode(String.self, forKey: .phone)
        template = try c.decode(String.self, forKey: .template)
        tokens = try c.decode([String: String].self, forKey: .tokens)
        userID = try c.decodeIfPresent(DomainID<AnyText>.self, forKey: .userID)?.value
        purpose = try c.decodeIfPresent(String.self, forKey: .purpose)
        notAfter = try c.decodeIfPresent(Double.self, forKey: .notAfter)
    }

    /// The job type that sends it.
    public static let jobType = "sms.send"

    /// Enqueues an `sms.send` job for this message, at most once per `message_id` (30 days).
    /// - Parameters:
    ///   - jobs: the engine.
    ///   - queue: the queue (default `default`).
    ///   - runAt: send no earlier than this (nil: now).
    ///   - id: the job's id, for a caller that may cancel it (nil: a new one).
    /// - Returns: the engine's answer; ``EnqueueResult/alreadyEnqueued(existingID:)`` when another job took the once-key
    ///   before (the same job id sent again is reported `enqueued`/`scheduled`: it is in).
    @discardableResult
    public func enqueue(on jobs: JobQueue, queue: String = "default", runAt: Date? = nil, id: String? = nil) async throws -> EnqueueResult {
        try await jobs.enqueue(self, options: EnqueueOptions(
            queue: queue, runAt: runAt, onceKey: "sms:\(messageID)", onceFor: .seconds(30 * 86_400), id: id))
    }
}

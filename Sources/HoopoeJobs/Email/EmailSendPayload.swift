import Foundation
import HoopoeCore
import HoopoeJSON

/// The payload of `email.send` (jobs/schemas/email.send.schema.json): one transactional email from a Brevo template.
///
/// `message_id` makes it idempotent, as for `sms.send`: enqueued at most once (30 days), sent at most once.
public struct EmailSendPayload: JobPayload, Equatable {
    /// Caller-chosen, unique per message, e.g. `reminder.expiration.email:42:1735689599:3`. Also the email's Brevo tag.
    public var messageID: String
    /// The recipient's address.
    public var email: String
    /// The recipient's name for the `To:` header.
    public var name: String?
    /// The Brevo template (its sender, subject and Persian text live there).
    public var templateID: Int64
    /// Values for the template's `{{ params.… }}` placeholders.
    public var params: [String: String]
    /// The user the message is about, carried into the `email.*` events.
    public var userID: String?
    /// Why it is sent (`reminder.expiration`), carried into the events.
    public var purpose: String?
    /// Unix seconds (domain time) after which the email is not sent, as `sms.send`'s `not_after`: its text would be
    /// wrong by then (an expiration reminder's «فردا», "tomorrow", fixed when it was released). A run after it ends
    /// it with `email.failed` (reason `outdated: …`) instead of sending it late; without it, the engine's 25 attempts
    /// (about three weeks) could deliver a reminder days after the expiry.
    public var notAfter: Double?

    enum CodingKeys: String, CodingKey {
        case messageID = "message_id", email, name, templateID = "template_id", params, userID = "user_id", purpose, notAfter = "not_after"
    }

    public init(messageID: String, email: String, name: String?, templateID: Int64, params: [String: String],
                userID: String? = nil, purpose: String? = nil, notAfter: Double? = nil) {
        self.messageID = messageID
        self.email = email
        self.name = name
        self.templateID = templateID
        self.params = params
        self.userID = userID
        self.purpose = purpose
        self.notAfter = notAfter
    }

    /// As the schema has it; `user_id` a string or an integer, kept as text (as ``SMSSendPayload``'s).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        messageID = try c.decode(String.self, forKey: .messageID)
        email = try c.decode(String.self, forKey: .email)
        name = try c.decodeIfPresent(String.self, forKey: .name)
        templateID = try c.decode(Int64.self, forKey: .templateID)
        params = try c.decode([String: String].self, forKey: .params)
        userID = try c.decodeIfPresent(DomainID<AnyText>.self, forKey: .userID)?.value
        purpose = try c.decodeIfPresent(String.self, forKey: .purpose)
        notAfter = try c.decodeIfPresent(Double.self, forKey: .notAfter)
    }

    /// The job type that sends it.
    public static let jobType = "email.send"

    /// Enqueues an `email.send` job for this message, at most once per `message_id` (30 days).
    /// - Parameters:
    ///   - jobs: the engine.
    ///   - queue: the queue (default `default`).
    ///   - runAt: send no earlier than this (nil: now).
    @discardableResult
    public func enqueue(on jobs: JobQueue, queue: String = "default", runAt: Date? = nil) async throws -> EnqueueResult {
        try await jobs.enqueue(self, options: EnqueueOptions(
            queue: queue, runAt: runAt, onceKey: "email:\(messageID)", onceFor: .seconds(30 * 86_400)))
    }

    /// Why the payload can never be sent, or nil.
    func problem() -> String? {
        if messageID.isEmpty || messageID.count > 200 || messageID.contains(where: \.isNewline) {
            return "message_id must be 1-200 characters on one line"
        }
        if !Self.isAddress(email) { return "email is not an email address" }
        if templateID <= 0 { return "template_id must be a positive Brevo template id" }
        if let notAfter, !(notAfter.isFinite && notAfter > 0 && notAfter < ExpiryDate.latest) {
            return "not_after must be a Unix time in seconds before 2200, got \(notAfter)"
        }
        if params.count > 50 || params.contains(where: { $0.key.isEmpty || $0.value.utf8.count > 2_000 }) {
            return "params must be at most 50 named values of at most 2000 bytes each"
        }
        return nil
    }

    /// `local@domain.tld`: one `@`, no spaces, at most 254 characters — what Brevo's `to.email` takes.
    static func isAddress(_ text: String) -> Bool {
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        guard text.count <= 254, parts.count == 2, !parts[0].isEmpty, parts[1].contains("."),
              !parts[1].hasPrefix("."), !parts[1].hasSuffix("."), !text.contains(where: { $0.isWhitespace || $0 == "," || $0 == ";" })
        else { return false }
        return true
    }
}

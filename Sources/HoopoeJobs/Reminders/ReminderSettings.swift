import Foundation
import HoopoeCore

/// Settings of the expiration and low-credit reminders, read from the environment (deploy/hoopoe.env.example).
public struct ReminderSettings: Sendable {
    /// `REMINDER_OFFSETS_DAYS` (default `10,3,1,0`): days before the expiry day a reminder goes out; 0 is the day itself.
    public var offsetsDays = [10, 3, 1, 0]
    /// `RECEIPT_BASE_URL` (e.g. `https://kamva.ir/email/receipt`): the receipt link is `<base>/<receipt_id>`.
    /// No default: `reminders.expiration` fails with a retryable error naming it while it is unset (nothing is
    /// lost; other job types keep running), rather than refusing to start the whole worker. A value that cannot make
    /// a link Kavenegar accepts in `token3` (``receiptLinkProblem(base:receiptID:)``) does stop start-up.
    public var receiptBaseURL: String?
    /// `REMINDER_SMS_QUEUE` (default `default`): the queue the reminders' `sms.send` jobs go to.
    public var smsQueue = "default"
    /// `REMINDER_EMAIL_TEMPLATE_ID` (a Brevo template id; unset = no reminder emails): each expiration reminder
    /// also goes out as an `email.send` from this template to the subscription's `email`.
    public var emailTemplateID: Int64?
    /// `REMINDER_EMAIL_QUEUE` (default `default`): the queue the reminders' `email.send` jobs go to.
    public var emailQueue = "default"
    /// `BREVO_BALANCE_REQUESTS_PER_HOUR` (default 60; 0 = never read balances from Brevo): the most Brevo calls the
    /// low-credit sweeps make per clock hour, all workers together. Below the general tier's 100 an hour, so the sweeps
    /// never take all of it: `sendinblue.register` shares the account's limit (at 100, the hour's 429s fell on it).
    public var brevoRequestsPerHour = 60
    /// `BREVO_BALANCE_CREDITS` (`email` or `sms`, default `email`): which of a child's Brevo credits is its balance.
    public var brevoCredits = BrevoCreditKind.email

    /// Which Brevo credit counter is compared with the thresholds.
    public enum BrevoCreditKind: String, Sendable, CaseIterable {
        case email, sms
    }

    /// Why the receipt link `<base>/<receiptID>` cannot be the expiration SMS's `token3` (Kavenegar refuses it with
    /// 431: no underscore, space or separator, at most 100 characters), or nil. Checked where each part enters: the
    /// base at start-up (exit 78), the receipt id when `subscription.upsert` arrives.
    /// A receipt id as long as Kingfisher's (seed 000's `5df0a68c9643cb0048794ab7`), for the start-up check.
    static let typicalReceiptID = "5df0a68c9643cb0048794ab7"

    static func receiptLinkProblem(base: String, receiptID: String) -> String? {
        guard let problem = SMSPayloadCheck.tokenProblem("\(base)/\(receiptID)", name: "token3") else { return nil }
        return "the receipt link \(base)/<receipt_id> goes into the reminder SMS's token3, which Kavenegar refuses (431): \(problem)"
    }
}

extension ReminderSettings {
    /// Reads the settings.
    /// - Throws: ``ConfigurationError`` naming the variable.
    public init(environment env: EnvironmentReader) throws(ConfigurationError) {
        let offsets = try env.integers("REMINDER_OFFSETS_DAYS", default: offsetsDays, in: 0...365)
        offsetsDays = Array(Set(offsets)).sorted(by: >)
        receiptBaseURL = try env.url("RECEIPT_BASE_URL", default: nil)
        // Checked with a receipt id as long as Kingfisher's (a 24-character Mongo id, `5df0a68c9643cb0048794ab7`): with a
        // one-character one, a base of 76-98 characters started the worker, and every upsert was then refused.
        if let base = receiptBaseURL, let problem = Self.receiptLinkProblem(base: base, receiptID: Self.typicalReceiptID) {
            throw ConfigurationError(key: "RECEIPT_BASE_URL", message: problem)
        }
        // The engine's own rule (EnvelopeRules.queueProblem): a looser check let `.sms` or `پیامک` start the worker,
        // and then every sweep's enqueue was refused, day after day.
        let queueName = { (text: String) throws(ConfigurationProblem) -> String in
            if let problem = EnvelopeRules.queueProblem(text) {
                throw ConfigurationProblem("expected a queue name (ASCII letters, digits, _ - ., at most 64, not starting with '.', no '..'): \(problem)")
            }
            return text
        }
        smsQueue = try env.parsed("REMINDER_SMS_QUEUE", default: smsQueue, queueName)
        emailQueue = try env.parsed("REMINDER_EMAIL_QUEUE", default: emailQueue, queueName)
        emailTemplateID = try env.parsed("REMINDER_EMAIL_TEMPLATE_ID", default: nil) { (text: String) throws(ConfigurationProblem) -> Int64? in
            guard let id = Int64(text), id > 0 else { throw ConfigurationProblem("expected a Brevo template id (a positive whole number), got \(text)") }
            return id
        }
        brevoRequestsPerHour = try env.integer("BREVO_BALANCE_REQUESTS_PER_HOUR", default: brevoRequestsPerHour, in: 0...100_000)
        brevoCredits = try env.choice("BREVO_BALANCE_CREDITS", default: brevoCredits)
    }
}

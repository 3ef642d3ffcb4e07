import Foundation

/// Settings of the expiration and low-credit reminders, read from the environment (deploy/hoopoe.env.example).
public struct ReminderSettings: Sendable {
    /// `REMINDER_OFFSETS_DAYS` (default `10,3,1,0`): days before the expiry day a reminder goes out; 0 is the day itself.
    public var offsetsDays: [Int]
    /// `RECEIPT_BASE_URL` (e.g. `https://kamva.ir/email/receipt`): the receipt link is `<base>/<receipt_id>`.
    /// No default: `reminders.expiration` fails with a retryable error naming it while it is unset (nothing is
    /// lost; other job types keep running), rather than refusing to start the whole worker. A value that cannot make
    /// a link Kavenegar accepts in `token3` (``receiptLinkProblem(base:receiptID:)``) does stop start-up.
    public var receiptBaseURL: String?
    /// `REMINDER_SMS_QUEUE` (default `default`): the queue the reminders' `sms.send` jobs go to.
    public var smsQueue: String
    /// `REMINDER_EMAIL_TEMPLATE_ID` (a Brevo template id; unset = no reminder emails): each expiration reminder
    /// also goes out as an `email.send` from this template to the subscription's `email`.
    public var emailTemplateID: Int64?
    /// `REMINDER_EMAIL_QUEUE` (default `default`): the queue the reminders' `email.send` jobs go to.
    public var emailQueue: String
    /// `BREVO_BALANCE_REQUESTS_PER_HOUR` (default 100; 0 = never read balances from Brevo): the most Brevo calls the
    /// low-credit sweeps make per clock hour, all workers together.
    public var brevoRequestsPerHour: Int
    /// `BREVO_BALANCE_CREDITS` (`email` or `sms`, default `email`): which of a child's Brevo credits is its balance.
    public var brevoCredits: BrevoCreditKind

    /// Which Brevo credit counter is compared with the thresholds.
    public enum BrevoCreditKind: String, Sendable {
        case email, sms
    }

    public init(
        offsetsDays: [Int] = [10, 3, 1, 0], receiptBaseURL: String? = nil, smsQueue: String = "default",
        brevoRequestsPerHour: Int = 100, brevoCredits: BrevoCreditKind = .email, emailTemplateID: Int64? = nil,
        emailQueue: String = "default"
    ) {
        self.emailTemplateID = emailTemplateID
        self.emailQueue = emailQueue
        self.offsetsDays = offsetsDays
        self.receiptBaseURL = receiptBaseURL
        self.smsQueue = smsQueue
        self.brevoRequestsPerHour = brevoRequestsPerHour
        self.brevoCredits = brevoCredits
    }

    /// Reads the settings.
    /// - Throws: ``ConfigurationError`` naming the variable.
    public init(environment env: EnvironmentReader) throws(ConfigurationError) {
        let offsets = try env.integers("REMINDER_OFFSETS_DAYS", default: [10, 3, 1, 0], in: 0...365)
        offsetsDays = Array(Set(offsets)).sorted(by: >)
        receiptBaseURL = try env.url("RECEIPT_BASE_URL", default: nil)
        if let base = receiptBaseURL, let problem = Self.receiptLinkProblem(base: base, receiptID: "R") {
            throw ConfigurationError(key: "RECEIPT_BASE_URL", message: problem)
        }
        let queueName = { (text: String) throws(ConfigurationProblem) -> String in
            guard text.allSatisfy({ $0.isLetter || $0.isNumber || "_-.".contains($0) }) else {
                throw ConfigurationProblem("expected a queue name (letters, digits, _ - .), got \(text)")
            }
            return text
        }
        smsQueue = try env.parsed("REMINDER_SMS_QUEUE", default: "default", queueName)
        emailQueue = try env.parsed("REMINDER_EMAIL_QUEUE", default: "default", queueName)
        emailTemplateID = try env.parsed("REMINDER_EMAIL_TEMPLATE_ID", default: nil) { (text: String) throws(ConfigurationProblem) -> Int64? in
            guard let id = Int64(text), id > 0 else { throw ConfigurationProblem("expected a Brevo template id (a positive whole number), got \(text)") }
            return id
        }
        brevoRequestsPerHour = try env.integer("BREVO_BALANCE_REQUESTS_PER_HOUR", default: 100, in: 0...100_000)
        brevoCredits = try env.parsed("BREVO_BALANCE_CREDITS", default: .email) { (text: String) throws(ConfigurationProblem) in
            guard let kind = BrevoCreditKind(rawValue: text.lowercased()) else {
                throw ConfigurationProblem("expected email or sms, got \(text)")
            }
            return kind
        }
    }

    /// Why the receipt link `<base>/<receiptID>` cannot be the expiration SMS's `token3` (Kavenegar refuses it with
    /// 431: no underscore, space or separator, at most 100 characters), or nil. Checked where each part enters: the
    /// base at start-up (exit 78), the receipt id when `subscription.upsert` arrives.
    static func receiptLinkProblem(base: String, receiptID: String) -> String? {
        guard let problem = SMSPayloadCheck.tokenProblem("\(base)/\(receiptID)", name: "token3") else { return nil }
        return "the receipt link \(base)/<receipt_id> goes into the reminder SMS's token3, which Kavenegar refuses (431): \(problem)"
    }
}

import Foundation

/// Settings of the expiration and low-credit reminders, read from the environment (deploy/hoopoe.env.example).
public struct ReminderSettings: Sendable {
    /// `REMINDER_OFFSETS_DAYS` (default `10,3,1,0`): days before the expiry day a reminder goes out; 0 is the day itself.
    public var offsetsDays: [Int]
    /// `RECEIPT_BASE_URL` (e.g. `https://kamva.ir/email/receipt`): the receipt link is `<base>/<receipt_id>`.
    /// No default: `reminders.expiration` fails with a retryable error naming it while it is unset (nothing is
    /// lost; other job types keep running), rather than refusing to start the whole worker.
    public var receiptBaseURL: String?
    /// `REMINDER_SMS_QUEUE` (default `default`): the queue the reminders' `sms.send` jobs go to.
    public var smsQueue: String
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
        brevoRequestsPerHour: Int = 100, brevoCredits: BrevoCreditKind = .email
    ) {
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
        smsQueue = try env.parsed("REMINDER_SMS_QUEUE", default: "default") { (text: String) throws(ConfigurationProblem) in
            guard text.allSatisfy({ $0.isLetter || $0.isNumber || "_-.".contains($0) }) else {
                throw ConfigurationProblem("expected a queue name (letters, digits, _ - .), got \(text)")
            }
            return text
        }
        brevoRequestsPerHour = try env.integer("BREVO_BALANCE_REQUESTS_PER_HOUR", default: 100, in: 0...100_000)
        brevoCredits = try env.parsed("BREVO_BALANCE_CREDITS", default: .email) { (text: String) throws(ConfigurationProblem) in
            guard let kind = BrevoCreditKind(rawValue: text.lowercased()) else {
                throw ConfigurationProblem("expected email or sms, got \(text)")
            }
            return kind
        }
    }
}

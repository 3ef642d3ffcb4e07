import Foundation
import Providers

/// The SMS area's settings (`sms.send`, `sms.delivery_poll`), read from the environment; every variable is in
/// deploy/hoopoe.env.example with its default.
public struct SMSSettings: Sendable {
    /// The SMS providers `sms.send` may use.
    public enum Provider: String, Sendable, CaseIterable {
        case kavenegar
        case ippanel
    }

    /// `SMS_TEMPLATES_FILE` (default `jobs/sms_templates.yaml`).
    public var templatesFile = "jobs/sms_templates.yaml"
    /// The templates read from it.
    public var templates = SMSTemplates()
    /// `SMS_PROVIDERS` (default `kavenegar,ippanel`): the order providers are tried in. Only those configured with
    /// their keys are used.
    public var providers: [Provider] = [.kavenegar, .ippanel]
    /// `SMS_QUIET_HOURS` (default `22-08`, local time): no SMS then; a send due in them waits for their end.
    public var quietHours = QuietHours.default
    /// `SMS_DAILY_CAP` (default 5; 0 = no cap): messages per recipient per local day.
    public var dailyCap = 5
    /// `SMS_UNKNOWN_OUTCOME_RETRY_SECONDS` (default 60): the wait before the one re-send allowed after a send whose
    /// outcome is unknown (a timeout on `verify/lookup`, which has no dedupe key).
    public var unknownOutcomeRetry = 60.0
    /// `KAVENEGAR_CREDIT_FLOOR` (Rial, default 100000): below it `sms.delivery_poll` raises a `provider.alert`.
    public var creditFloor = 100_000
    /// `SMS_CREDIT_CHECK_MINUTES` (default 30; 0 = never): how often `sms.delivery_poll` reads the Kavenegar credit.
    public var creditCheckInterval = 1800.0

    /// Delay before a message's first delivery poll (Kavenegar re-checks 5 minutes after hand-off, §2.4.3).
    public static let firstPollDelay: Double = 300
    /// Longest interval between two polls of one message.
    public static let maximumPollInterval: Double = 3600
    /// Polling stops (state `expired`) this long after the send: Kavenegar reports only the last 48 hours.
    public static let pollWindow: Double = 48 * 3600
    /// Largest number of provider ids in one Kavenegar `sms/status` call.
    public static let statusBatchSize = 500
    /// How long after a give-up `sms.delivery_poll` waits before it emits the `sms.failed` a run or burial hook owes
    /// (its event write failed): longer than either may run (the job's timeout, 2 minutes), so an event one is still
    /// writing is not written twice.
    public static let owedFailureGrace: Double = 300
    /// Sends with an unknown outcome allowed per message (docs/providers.md §2.4.5: cap at 2).
    public static let unknownOutcomeAttempts = 2
    /// Times a message is sent again after IPPanel ended its bulk unsent (`state_id` 8, no credit; 9, a system error:
    /// docs/providers.md §3.5 asks for a re-send): twice, then it stays failed, with the alert.
    public static let unsentBulkResends = 2
    /// The wait before such a re-send: after a system error (9), a minute; after no credit (8), the alert's park
    /// time, for an operator to top up (a re-send through Kavenegar, first by default, needs none of it).
    public static let unsentBulkRetry: Double = 60
    /// How long the per-message ledger is kept (as long as the payload's once-key).
    public static let ledgerTTL = 30 * 86_400
    /// How long a message is parked without burning attempts while every provider raises an alert (credit run dry, a
    /// key revoked): a day for an operator to act; after it each park counts as an attempt, so the message still ends.
    public static let alertParkLimit: Double = 86_400
}

extension SMSSettings {
    /// Reads the variables and the templates file.
    /// - Throws: ``ConfigurationError`` naming the variable, or the file and key.
    public init(environment env: EnvironmentReader) throws(ConfigurationError) {
        templatesFile = env.string("SMS_TEMPLATES_FILE", default: templatesFile)
        templates = try SMSTemplates.load(path: templatesFile)
        providers = try env.parsed("SMS_PROVIDERS", default: providers) { (text: String) throws(ConfigurationProblem) in
            var list: [Provider] = []
            for part in text.split(separator: ",") {
                let name = part.trimmingCharacters(in: .whitespaces).lowercased()
                guard let provider = Provider(rawValue: name) else {
                    throw ConfigurationProblem("unknown SMS provider \(name) (use kavenegar, ippanel, comma-separated, in the order to try)")
                }
                if !list.contains(provider) { list.append(provider) }
            }
            guard !list.isEmpty else { throw ConfigurationProblem("expected at least one provider") }
            return list
        }
        quietHours = try env.parsed("SMS_QUIET_HOURS", default: quietHours) { (text: String) throws(ConfigurationProblem) in
            try QuietHours(parsing: text)
        }
        dailyCap = try env.integer("SMS_DAILY_CAP", default: dailyCap, in: 0...10_000)
        unknownOutcomeRetry = try env.seconds("SMS_UNKNOWN_OUTCOME_RETRY_SECONDS", default: unknownOutcomeRetry)
        creditFloor = try env.integer("KAVENEGAR_CREDIT_FLOOR", default: creditFloor)
        creditCheckInterval = Double(try env.integer("SMS_CREDIT_CHECK_MINUTES", default: Int(creditCheckInterval / 60), in: 0...100_000)) * 60
    }
}

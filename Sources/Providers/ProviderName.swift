/// The external services this module talks to.
///
/// Carried by every ``ProviderError`` and ``DeliveryStatus`` so a job that falls back from one SMS provider to
/// another can tell, in its logs and alerts, which provider produced a result.
public enum ProviderName: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// Kavenegar SMS (REST v1).
    case kavenegar
    /// IPPanel SMS ("Edge" REST API).
    case ippanel
    /// Brevo (formerly Sendinblue) reseller API.
    case brevo
    /// The dry-run sender, which records instead of sending.
    case dryRun = "dry-run"

    public var description: String { rawValue }
}

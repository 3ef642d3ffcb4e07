/// What the worker should do with a job after a provider call failed.
///
/// Every provider failure maps to exactly one disposition (docs/providers.md §1). The disposition tables of
/// docs/providers.md §2.6 (Kavenegar), §3.2 (IPPanel) and §4.5 (Brevo) are the specification; the per-provider
/// `…Disposition.swift` files implement them row by row.
public enum Disposition: Sendable, Hashable, CustomStringConvertible {
    /// Transient: re-enqueue with backoff. `after` is the server's hint when it gave one (Brevo
    /// `x-sib-ratelimit-reset`) or a spec-mandated minimum (Kavenegar `451`: at least 60 s).
    case retry(after: Duration?)
    /// Retrying the same request can never succeed (bad input, bad recipient, invalid state): fail the job.
    case permanent
    /// An account or configuration problem an operator must fix (credit exhausted, key revoked, template
    /// missing, IP blocked, test-mode account). Raise an alert once per provider+code per window.
    ///
    /// `requeueAfterFix == true` is the spec's plain `ALERT`: park the job and re-queue it once fixed.
    /// `requeueAfterFix == false` is `ALERT+PERMANENT`: do not re-queue, the payload itself must change
    /// (e.g. a template that does not exist).
    case alert(requeueAfterFix: Bool)

    /// True for ``retry(after:)``.
    public var isRetry: Bool {
        if case .retry = self { return true }
        return false
    }

    /// True for both kinds of ``alert(requeueAfterFix:)``.
    public var isAlert: Bool {
        if case .alert = self { return true }
        return false
    }

    public var description: String {
        switch self {
        case .retry(let after?): "retry(after: \(after))"
        case .retry(nil): "retry"
        case .permanent: "permanent"
        case .alert(requeueAfterFix: true): "alert"
        case .alert(requeueAfterFix: false): "alert+permanent"
        }
    }
}

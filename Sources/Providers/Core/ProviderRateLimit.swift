/// A provider's rate-limit window as reported in response headers.
///
/// Brevo sends `x-sib-ratelimit-limit`, `x-sib-ratelimit-remaining` and `x-sib-ratelimit-reset` (docs/providers.md
/// §4.4). They are surfaced on every Brevo result and error so a job can spread its calls over the ~100 requests
/// per hour budget instead of discovering it through `429`s.
public struct ProviderRateLimit: Sendable, Hashable {
    /// Maximum number of requests in the current window, if sent.
    public var limit: Int?
    /// Requests left in the current window, if sent.
    public var remaining: Int?
    /// Time until the window resets. Brevo sends the *time remaining* (in seconds), not an epoch.
    public var reset: Duration?

    /// Creates a rate-limit snapshot.
    public init(limit: Int?, remaining: Int?, reset: Duration?) {
        self.limit = limit
        self.remaining = remaining
        self.reset = reset
    }
}

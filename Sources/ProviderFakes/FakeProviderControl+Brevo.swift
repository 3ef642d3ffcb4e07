/// Controls of the fake Brevo's transactional email (the reseller controls are in FakeProviderControl.swift).
extension FakeProviderControl {
    /// Sets the transactional email routes' rate window (`x-sib-ratelimit-*`); `remaining: 0` makes the next
    /// `POST /smtp/email` a 429 as Brevo answers it.
    public func setBrevoEmailRateLimit(limit: Int, remaining: Int, reset: Int) {
        brevo.emailRateLimit = limit
        brevo.emailRateRemaining = remaining
        brevo.emailRateReset = reset
    }

    /// How many transactional emails the fake Brevo accepted (a repeated idempotency key does not count).
    public func brevoEmailCount() -> Int { brevo.emails.count }

    /// Makes a template id unknown (or known again): only ids in `range` are active templates.
    public func setBrevoEmailTemplates(_ range: ClosedRange<Int64>) { brevo.emailTemplates = range }
}

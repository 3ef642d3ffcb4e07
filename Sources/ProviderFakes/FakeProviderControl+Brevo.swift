import Foundation

/// Controls of the fake Brevo's transactional email and of its children as a test sets them up (the reseller
/// credit pools, creation polls and rate window are in FakeProviderControl.swift).
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

    /// Dates every accepted email `at`, as if Brevo had taken them then (the events report's days count from it).
    public func dateBrevoEmails(_ at: Date) {
        for index in brevo.emails.indices { brevo.emails[index].at = at }
    }

    /// Makes a template id unknown (or known again): only ids in `range` are active templates.
    public func setBrevoEmailTemplates(_ range: ClosedRange<Int64>) { brevo.emailTemplates = range }

    /// The active template ids.
    public func brevoEmailTemplates() -> ClosedRange<Int64> { brevo.emailTemplates }

    /// Sets a child's credits as if its owner had spent (or bought) some: how a test moves a balance Hoopoe reads
    /// from Brevo. Returns false when no child has that id.
    @discardableResult
    public func setBrevoChildCredits(id: Int64, sms: Int64?, email: Int64?) -> Bool {
        guard let index = brevo.children.firstIndex(where: { $0.id == id }) else { return false }
        if let sms { brevo.children[index].smsCredits = sms }
        if let email { brevo.children[index].emailCredits = email }
        return true
    }

    /// The children that exist: id, email and credits, oldest first.
    public func brevoChildren() -> [(id: Int64, email: String, sms: Int64, emailCredits: Int64)] {
        brevo.children.map { ($0.id, $0.email, $0.smsCredits, $0.emailCredits) }
    }
}

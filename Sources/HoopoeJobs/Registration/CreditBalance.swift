import Providers

/// A child's SMS and email credits at one moment, and the rule that decides whether an add-credits request whose
/// answer was lost (a timeout, a 5xx, a worker that died mid-call) took effect.
///
/// Brevo's add-credits is not idempotent (docs/providers.md §4.2.5): re-sending after a lost answer may credit twice.
/// So the balance is read before every add and kept in Redis; after a lost answer it is read again. docs/providers.md
/// suggests re-sending unless the balance "rose by the requested amount", but a new child may already spend some
/// of what was added (the user can log in with their password), and then that rule would credit twice. Nothing
/// but this job adds credits to a child during its registration, so the rule here is: **any rise of a requested
/// kind means the add happened** (one request adds both kinds together, so one kind rising is enough). The add is
/// re-sent only when no requested kind rose — which would also be the case if the user had already spent the
/// whole addition within the minutes before the check; that is the one (unlikely) way to credit twice, and the
/// safer side of the trade than leaving a paid plan without credits.
struct CreditBalance: Sendable, Equatable {
    var sms: Int64
    var email: Int64

    init(sms: Int64, email: Int64) {
        self.sms = sms
        self.email = email
    }

    /// The balance in a child's details (missing numbers read as 0).
    init(_ child: BrevoChild) {
        self.init(sms: child.smsCredits ?? 0, email: child.emailCredits ?? 0)
    }

    /// Whether an add of `sms`/`email` credits happened between `self` (read before it) and `after`.
    func showsAdd(of sms: Int64, email: Int64, after: CreditBalance) -> Bool {
        (sms > 0 && after.sms > self.sms) || (email > 0 && after.email > self.email)
    }
}

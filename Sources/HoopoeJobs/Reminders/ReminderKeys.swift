/// The Redis keys of the reminders (jobs/types/*.md list them). Expiration keys share the `{reminders}` hash tag,
/// low-credit keys the `{credit}` tag, so each Lua script's keys sit in one Redis Cluster slot.
struct ReminderKeys: Sendable {
    let services: DomainServices

    // MARK: Expiration reminders

    /// Hash per user: `phone`, `first_name`, `plan`, `receipt_id`, `email`, `expires_at` (Unix s), `offsets` (those scheduled),
    /// `updated_at`. Expires 40 days after the expiry.
    func subscription(_ user: String) -> String { services.key("{reminders}:sub:\(user)") }
    /// Sorted set of pending reminders `<offset>|<expires_at>|<user>`, scored by the domain time they are due.
    var due: String { services.key("{reminders}:due") }
    /// Sorted set of reminders a sweep has taken from ``due`` and not finished, scored by the real claim time; a
    /// claim older than the lease is taken again by the next sweep (crash recovery).
    var claimed: String { services.key("{reminders}:claimed") }
    /// Hash per user: `<expires_at>|<offset>` → `<queue>|<sms.send job id>` (and `<expires_at>|<offset>|email` →
    /// `<queue>|<email.send job id>`) of released reminders, so a renewal can cancel the ones still waiting. Expires 40 days after the last release.
    func released(_ user: String) -> String { services.key("{reminders}:jobs:\(user)") }

    // MARK: Low-credit reminders

    /// Set of users with at least one threshold.
    var creditUsers: String { services.key("{credit}:users") }
    /// Hash per user: threshold id → JSON `{threshold, phone, first_name, auth_key}`.
    func thresholds(_ user: String) -> String { services.key("{credit}:thresholds:\(user)") }
    /// Hash per user: threshold id → `armed` | `fired`; `<threshold id>:n` counts firings (message ids).
    func thresholdState(_ user: String) -> String { services.key("{credit}:state:\(user)") }
    /// Hash: user → last known balance (from `credit.balance` jobs or Brevo).
    var balances: String { services.key("{credit}:balances") }
    /// Hash: message id → JSON of a low-credit SMS decided but not yet enqueued.
    var outbox: String { services.key("{credit}:outbox") }
    /// Hash: Brevo child auth key → the child's email (resolved once, to match list entries).
    var childEmails: String { services.key("{credit}:child_email") }
    /// Offset of the next children page to read.
    var brevoCursor: String { services.key("{credit}:brevo_cursor") }
    /// Brevo calls made in one clock hour (real time): `{credit}:brevo_budget:<hours since 1970>`, expires after 2 h.
    func brevoBudget(hour: Int) -> String { services.key("{credit}:brevo_budget:\(hour)") }
}

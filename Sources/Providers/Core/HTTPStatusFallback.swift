/// Classification by HTTP status alone, for answers the provider's own table cannot classify.
///
/// docs/providers.md §1 rule 1 classifies from the provider's own code first. An answer that is not the provider's
/// envelope (a proxy's or WAF's HTML page, a geo-block, a 404 from a wrong base path, a redirect) carries no verdict
/// on the request: the provider, or the way to it, did not look at the input. So such an answer never says
/// `PERMANENT` — that would tell `sms.send` the input is at fault, and it would give the message up without asking the
/// next provider:
/// - 401 / 403: something refuses this server (a key, an IP, a country): an operator must look → `ALERT`, as the
///   providers' own auth failures are;
/// - 3xx: the configured base URL is not where the API answers (redirects are not followed: a redirected POST could
///   send twice), nothing was acted on → `ALERT`, outcome known;
/// - 5xx / 408 / 429 and any other 4xx: the way is blocked for now → `RETRY` (and the next provider);
/// - 2xx whose body is unreadable: transport-like — the call probably happened, so it is retried with the outcome
///   flagged unknown for non-idempotent calls.
///
/// ``dispositionForUnlistedCode(httpStatus:)`` is the other case: the provider's own envelope with a code its table
/// lacks. That is the provider's verdict, and a 4xx from it keeps §1's `PERMANENT`.
enum HTTPStatusFallback {
    /// The disposition for an answer whose body is not the provider's envelope.
    static func disposition(httpStatus: Int) -> Disposition {
        switch httpStatus {
        case 401, 403, 300...399: .alert(requeueAfterFix: true)
        default: .retry(after: nil)
        }
    }

    /// The disposition for the provider's own envelope with a code its table does not list (§1 rule 1's HTTP class).
    static func dispositionForUnlistedCode(httpStatus: Int) -> Disposition {
        switch httpStatus {
        case 408, 429, 500...599: .retry(after: nil)
        case 400...499: .permanent
        default: .retry(after: nil)
        }
    }

    /// Whether a failed, non-idempotent call may still have taken effect given this status: not after a redirect or a
    /// 4xx, which answer before the request is acted on.
    static func mayHaveTakenEffect(httpStatus: Int) -> Bool {
        !(300...499).contains(httpStatus)
    }
}

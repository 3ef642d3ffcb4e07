/// Classification by HTTP status alone, for bodies that are not the provider's envelope.
///
/// docs/providers.md §1 rule 1: only when the body cannot be parsed fall back to the HTTP class: 5xx / 408 / 429 →
/// `RETRY`, other 4xx → `PERMANENT`. A 2xx whose body is unreadable is treated as a transport-like failure: the
/// call probably happened, so it is retried with the outcome flagged unknown for non-idempotent calls.
enum HTTPStatusFallback {
    /// The disposition for an HTTP status whose body could not be parsed.
    static func disposition(httpStatus: Int) -> Disposition {
        switch httpStatus {
        case 408, 429, 500...599: .retry(after: nil)
        case 400...499: .permanent
        default: .retry(after: nil)
        }
    }

    /// Whether a failed, non-idempotent call may still have taken effect given this status.
    static func mayHaveTakenEffect(httpStatus: Int) -> Bool {
        !(400...499).contains(httpStatus)
    }
}

/// Brevo reseller failures mapped to dispositions (docs/providers.md §4.5).
///
/// Brevo classifies by HTTP status plus the `{code, message}` body. The `code` enum is treated as open
/// (brevo-python 1.2.0 dropped and added values), so the HTTP status decides and `code` refines it.
enum BrevoDisposition {
    /// The classification of one failed response.
    struct Outcome: Sendable {
        var disposition: Disposition
        var kind: ProviderError.Kind = .rejected
        var attemptCap: Int? = nil
        /// The request may have taken effect (reconcile before re-sending).
        var mayHaveTakenEffect = false
    }

    /// Classifies a non-2xx response.
    ///
    /// A redirect, or a 4xx without Brevo's `{code, message}` (a proxy's or WAF's page, a wrong base path), is not
    /// Brevo's verdict: it is classified by ``HTTPStatusFallback`` (401/403 and redirects alert, the rest retries), never
    /// `PERMANENT` — a 404 page from a wrong base path is no stale child id. 408 and 429 keep their rows (the reset hint).
    /// - Parameters:
    ///   - httpStatus: the HTTP status.
    ///   - code: the body's `code`, if the body parsed.
    ///   - rateLimit: the `x-sib-ratelimit-*` headers, for the 429 retry hint.
    static func outcome(httpStatus: Int, code: String?, rateLimit: ProviderRateLimit?) -> Outcome {
        if (300...399).contains(httpStatus) || (code == nil && (400...499).contains(httpStatus) && httpStatus != 408 && httpStatus != 429) {
            return Outcome(
                disposition: HTTPStatusFallback.disposition(httpStatus: httpStatus), kind: .unparseableResponse,
                mayHaveTakenEffect: HTTPStatusFallback.mayHaveTakenEffect(httpStatus: httpStatus))
        }
        switch httpStatus {
        // 400 invalid_parameter / missing_parameter / out_of_range / bad_request, and any other 400 code.
        // (duplicate_parameter on create child is reconciled by BrevoClient.createChild before it gets here.)
        case 400: return Outcome(disposition: .permanent)
        case 401: return Outcome(disposition: .alert(requeueAfterFix: true))  // api-key revoked or wrong
        case 402: return Outcome(disposition: .alert(requeueAfterFix: true))  // reseller pool exhausted: park
        // 403 not a reseller / permission_denied / reseller_permission_denied / account_under_validation.
        case 403: return Outcome(disposition: .alert(requeueAfterFix: true))
        // 404 document_not_found: the stored child id/auth key is stale — permanent plus a data-integrity warning.
        case 404: return Outcome(disposition: .permanent, kind: .staleIdentifier)
        case 405, 406, 422: return Outcome(disposition: .permanent)  // client bug
        // 409 duplicate_request: retry once after reconciliation [unverified semantics, docs/providers.md §4.5]: two
        // attempts in all.
        case 409: return Outcome(disposition: .retry(after: nil), attemptCap: 2, mayHaveTakenEffect: true)
        case 429: return Outcome(disposition: .retry(after: rateLimit?.reset))
        case 408: return Outcome(disposition: .retry(after: nil), mayHaveTakenEffect: true)
        case 500...599: return Outcome(disposition: .retry(after: nil), mayHaveTakenEffect: true)
        // Brevo's own answer with a status its table lacks: §1 rule 1's HTTP class (a 4xx is its verdict).
        default: return Outcome(disposition: HTTPStatusFallback.dispositionForUnlistedCode(httpStatus: httpStatus))
        }
    }
}

/// IPPanel Edge failures mapped to dispositions (docs/providers.md §3.2, `message_code` patterns).
///
/// Classified on the HTTP status first, then `meta.message_code`, whose class is `400` even when the HTTP
/// status is 401 or 422.
enum IPPanelDisposition {
    /// The disposition for a response whose `meta.status` is false (or whose HTTP status is not 2xx).
    static func disposition(httpStatus: Int, messageCode: String?) -> Disposition {
        switch httpStatus {
        // 401 / 400-1: invalid or expired key or token. With a long-lived API key (what the worker uses) this is
        // an operator problem. (A login token would be refreshed once first; this client only takes API keys.)
        case 401: return .alert(requeueAfterFix: true)
        case 408, 429, 500...599: return .retry(after: nil)
        // 422 / 400-2 validation error (meta.errors has the fields), 422 / 400-31 invalid state filter.
        case 422: return .permanent
        case 400...499: return messageCode == "400-1" ? .alert(requeueAfterFix: true) : .permanent
        default:
            // A 2xx with meta.status == false is not documented; classify by message_code alone.
            return messageCode == "400-1" ? .alert(requeueAfterFix: true) : .permanent
        }
    }

    /// An answer without the `data`/`meta` envelope: not IPPanel's verdict on the request, classified as Kavenegar's
    /// is (``HTTPStatusFallback``). The §3.2 table's "5xx / 429 / unparseable → RETRY", except a refusal of this
    /// server (401 / 403: a WAF, a geo-block) and a redirect (the base URL is wrong), which an operator must fix: alerts.
    static func dispositionForUnparseable(httpStatus: Int) -> Disposition {
        HTTPStatusFallback.disposition(httpStatus: httpStatus)
    }
}

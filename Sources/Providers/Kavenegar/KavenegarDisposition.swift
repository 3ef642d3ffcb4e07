/// Kavenegar's return codes (Table 1, docs/providers.md §2.6, plus `604`/`607`) mapped to dispositions.
///
/// The code is read from `return.status` in the body, even on an HTTP 4xx/5xx, because Kavenegar mirrors its code
/// into the HTTP status (docs/providers.md §2.2). `501` is an application code (test-mode account), not a server error.
enum KavenegarDisposition {
    /// The disposition for a non-200 `return.status`, or nil for a code not in the table.
    ///
    /// - Parameters:
    ///   - code: `return.status`.
    ///   - senderIsOurs: whether the request used our configured line (or the account default). Decides `412`.
    /// - Returns: the disposition and, where the table caps retries, the cap.
    static func disposition(for code: Int, senderIsOurs: Bool) -> (Disposition, attemptCap: Int?)? {
        let alert = Disposition.alert(requeueAfterFix: true)
        let alertPermanent = Disposition.alert(requeueAfterFix: false)
        switch code {
        case 400: return (.permanent, nil)  // parameters incomplete (client bug)
        case 401: return (alert, nil)  // account deactivated
        // 402 "operation failed": meaning not further documented [unverified]; open question docs/providers.md §6.2.
        // Retry, capped at ~3 attempts, then the job treats it as permanent.
        case 402: return (.retry(after: nil), 3)
        case 403: return (alert, nil)  // API key not valid
        case 404: return (.permanent, nil)  // unknown method (client bug)
        case 405: return (.permanent, nil)  // wrong GET/POST (client bug)
        case 406: return (.permanent, nil)  // mandatory parameters empty
        case 407: return (alert, nil)  // IP not set in the panel's security settings
        case 409: return (.retry(after: nil), nil)  // server cannot respond now
        case 411: return (.permanent, nil)  // invalid receptor
        // 412 invalid sender: an operator problem if it is our configured line, else the caller's bad input.
        // (docs/providers.md §6.2 also asks whether oversize `sendarray` gives 412 or 414; this client never sends arrays.)
        case 412: return (senderIsOurs ? alertPermanent : .permanent, nil)
        case 413: return (.permanent, nil)  // message empty or > 900 characters
        case 414: return (.permanent, nil)  // too many records (chunking bug)
        case 415: return (.permanent, nil)  // start index too large
        case 416: return (alert, nil)  // source IP does not match the settings
        case 417: return (.permanent, nil)  // bad date
        case 418: return (alert, nil)  // credit insufficient: park, retry after top-up
        case 419: return (.permanent, nil)  // array lengths differ
        case 420: return (alertPermanent, nil)  // links restricted for this account
        case 422: return (.permanent, nil)  // invalid character
        case 424: return (alertPermanent, nil)  // template not found or not yet approved
        case 426: return (alert, nil)  // advanced service required
        case 427: return (alert, nil)  // line needs an access level
        case 428: return (.permanent, nil)  // voice call needs a digits-only token
        case 429: return (alert, nil)  // IP blocked; NOT the throttling code
        case 431: return (.permanent, nil)  // token structure invalid
        case 432: return (alertPermanent, nil)  // template lacks %token
        // 451 too many calls / IP restricted: long backoff (≥ 60 s); sms.send alerts once a message met it three times.
        case 451: return (.retry(after: .seconds(60)), nil)
        case 501: return (alert, nil)  // account in test mode (application code, not HTTP 5xx)
        case 604: return (.permanent, nil)  // too many numbers (blocked list)
        case 607: return (.permanent, nil)  // invalid tag name
        default: return nil
        }
    }
}

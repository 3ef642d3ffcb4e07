import HoopoeJSON
import NIOHTTP1

extension BrevoClient {
    /// Sends one transactional email from a template (`POST /v3/smtp/email`); the value is Brevo's `messageId`.
    ///
    /// A timeout, a dropped connection or a 5xx is `outcomeUnknown`: within 15 minutes of the first try send it again
    /// with the same ``BrevoTransactionalEmail/idempotencyKey``: Brevo refuses a key it saw within its TTL with 400
    /// `duplicate_parameter` and processes it otherwise (a refusal does not prove the earlier request was accepted,
    /// so the caller checks ``emailEvents(tag:email:days:)``); later, look for its tag before sending again.
    public func sendTransactionalEmail(_ email: BrevoTransactionalEmail) async throws(ProviderError) -> BrevoResponse<String> {
        let operation = "smtp/sendTransacEmail"
        let (json, rateLimit) = try await call(
            operation, method: .POST, path: "/smtp/email", body: email.body, idempotent: false, extraSecrets: [email.toEmail])
        guard let id = json?["messageId"]?.stringValue, !id.isEmpty else {
            throw ProviderError(
                provider: .brevo, operation: operation, kind: .unparseableResponse, code: "201",
                message: "the send answer has no messageId", disposition: .retry(after: nil), outcomeUnknown: true,
                httpStatus: 201, redactedURL: transport.redact(url("/smtp/email")), rateLimit: rateLimit)
        }
        return BrevoResponse(value: id, rateLimit: rateLimit)
    }

    /// The transactional email events carrying `tag` for `email` over the last `days` days (1–90), at most 100
    /// (`GET /v3/smtp/statistics/events?tags=&email=&days=&limit=100`). An empty list means Brevo has no record of
    /// such an email (yet: its events can lag by minutes).
    public func emailEvents(tag: String, email: String, days: Int) async throws(ProviderError) -> BrevoResponse<[BrevoEmailEvent]> {
        let days = min(max(days, 1), 90)
        let path = "/smtp/statistics/events?limit=100&offset=0&days=\(days)&tags=\(FormEncoding.percentEncode(tag))"
            + "&email=\(FormEncoding.percentEncode(email))&sort=desc"
        let operation = "smtp/getEmailEventReport"
        let (json, rateLimit) = try await call(operation, method: .GET, path: path, body: nil, idempotent: true, extraSecrets: [email])
        // An object without `events` lists none; anything else is no answer, and read as "no record" it would send
        // the email again.
        guard let json, json.isObject, json["events"] == nil || json["events"] == .null || json["events"]?.arrayValue != nil else {
            throw unreadable(operation, path: path, lacking: "an events list", idempotent: true, extraSecrets: [email], rateLimit: rateLimit)
        }
        let events = json["events"]?.arrayValue?.compactMap(BrevoEmailEvent.init(json:)) ?? []
        return BrevoResponse(value: events, rateLimit: rateLimit)
    }
}


import HoopoeJSON
import AsyncHTTPClient
import Logging
import NIOHTTP1

/// IPPanel "Edge" REST client: pattern send, webservice send, per-recipient report, outbox report, credit.
///
/// JSON in and out, raw key in `Authorization`, success when `meta.status == true`, errors from
/// `meta.message_code` (docs/providers.md §3). Not the legacy `api2.ippanel.com` API (§3.9).
public struct IPPanelClient: Sendable {
    /// The configuration in use.
    public let configuration: Configuration
    private let transport: ProviderTransport

    /// Creates a client.
    /// - Parameters:
    ///   - configuration: base URL, key, line, timeouts.
    ///   - httpClient: shared by every provider client of the process, made at its first request.
    ///   - logger: receives redacted lines (recipients masked, no key).
    public init(
        configuration: Configuration,
        httpClient: ProviderHTTPClient,
        logger: Logger = Logger(label: "hoopoe.providers.ippanel")
    ) {
        self.configuration = configuration
        self.transport = ProviderTransport(
            provider: .ippanel, http: httpClient, logger: logger, totalTimeout: configuration.timeouts.total,
            redactor: Redactor(secrets: [configuration.apiKey]),
            connectTimeout: configuration.timeouts.connect)
    }

    /// Creates a client over an `HTTPClient` the caller made and shuts down (by default AsyncHTTPClient's shared one).
    public init(
        configuration: Configuration,
        httpClient: HTTPClient = .shared,
        logger: Logger = Logger(label: "hoopoe.providers.ippanel")
    ) {
        self.init(configuration: configuration, httpClient: ProviderHTTPClient(httpClient), logger: logger)
    }

    /// Sends a pattern message to its one recipient. Not idempotent (no dedupe key): a timeout or 5xx is flagged
    /// `outcomeUnknown`.
    public func sendPattern(_ message: IPPanelPatternMessage) async throws(ProviderError) -> IPPanelSendResult {
        let operation = "send/pattern"
        if let reason = message.violation() { throw invalidRequest(operation, reason) }
        let data = try await call(
            operation, method: .POST, path: "/api/send", body: message.body(fromNumber: configuration.fromNumber),
            idempotent: false, logMetadata: ["recipient": "\(PhoneMask.mask(message.recipient))", "pattern": "\(message.code)"])
        return try sendResult(data, operation: operation)
    }

    /// Sends one text to many recipients. Not idempotent: on an unknown outcome reconcile via the outbox report.
    public func sendWebservice(_ message: IPPanelWebserviceMessage) async throws(ProviderError) -> IPPanelSendResult {
        let operation = "send/webservice"
        if let reason = message.violation() { throw invalidRequest(operation, reason) }
        let data = try await call(
            operation, method: .POST, path: "/api/send", body: message.body(fromNumber: configuration.fromNumber),
            idempotent: false, logMetadata: ["recipients": "\(PhoneMask.mask(message.recipients))"])
        return try sendResult(data, operation: operation)
    }

    /// Per-recipient delivery statuses of one bulk (`GET /api/report/recipients`). Empty until the bulk's state is
    /// final (`state_id` 6).
    public func recipientsReport(bulkID: Int64, page: Int = 1, perPage: Int = 10) async throws(ProviderError)
        -> IPPanelRecipientsPage
    {
        var meta: JSONValue?
        let data = try await call(
            "report/recipients", method: .GET,
            path: "/api/report/recipients?page=\(page)&per_page=\(perPage)&bulk_id=\(bulkID)", body: nil,
            idempotent: true, logMetadata: ["bulk_id": "\(bulkID)"], meta: &meta)
        let rows = data?.arrayValue ?? data?["data"]?.arrayValue ?? []
        return IPPanelRecipientsPage(
            recipients: rows.map(IPPanelRecipientStatus.init(json:)),
            currentPage: meta?["current_page"]?.int64Value.map(Int.init),
            lastPage: meta?["last_page"]?.int64Value.map(Int.init),
            total: meta?["total"]?.int64Value.map(Int.init))
    }

    /// One bulk's outbox record (`POST /api/report/by_bulk/{id}`), with its `state_id`.
    public func outboxReport(bulkID: Int64) async throws(ProviderError) -> IPPanelBulk {
        let operation = "report/by_bulk"
        let data = try await call(
            operation, method: .POST, path: "/api/report/by_bulk/\(bulkID)", body: ["page": 1, "limit": 10],
            idempotent: true, logMetadata: ["bulk_id": "\(bulkID)"])
        guard let data, let bulk = IPPanelBulk(json: data) else {
            throw ProviderError(
                provider: .ippanel, operation: operation, kind: .unparseableResponse, code: "200-1",
                message: "by_bulk data lacks messages_outbox_id/state_id", disposition: .retry(after: nil),
                httpStatus: 200, redactedURL: transport.redact(url("/api/report/by_bulk/\(bulkID)")))
        }
        return bulk
    }

    /// Remaining credit (`GET /api/payment/credit/mine`); the currency unit is not documented (docs/providers.md §6.1).
    public func credit() async throws(ProviderError) -> Double {
        let operation = "payment/credit"
        let data = try await call(
            operation, method: .GET, path: "/api/payment/credit/mine", body: nil, idempotent: true, logMetadata: [:])
        // A missing number is not an empty account: read as 0 it would raise a low-credit alarm on an unreadable answer.
        guard let credit = data?["credit"]?.doubleValue else {
            throw ProviderError(
                provider: .ippanel, operation: operation, kind: .unparseableResponse, code: "200",
                message: "the credit answer has no credit", disposition: .retry(after: nil), httpStatus: 200,
                redactedURL: transport.redact(url("/api/payment/credit/mine")))
        }
        return credit
    }

    // MARK: - Wire

    /// A POST report call that also hands back the envelope's `meta` (pagination).
    func callWithMeta(_ operation: String, path: String, body: JSONValue, meta: inout JSONValue?) async throws(ProviderError) -> JSONValue? {
        try await call(operation, method: .POST, path: path, body: body, idempotent: true, logMetadata: [:], meta: &meta)
    }

    /// A send's result; a success without `message_outbox_ids` throws.
    ///
    /// `meta.status` true says IPPanel took the send, so the SMS may well have gone out, but without its bulk id it can
    /// be neither recorded nor polled: "sent" with no ids is a message nobody can follow. It is a lost answer:
    /// `unparseableResponse`, retried with the outcome unknown (no dedupe key: the job asks the outbox, not sending
    /// blindly again).
    private func sendResult(_ data: JSONValue?, operation: String) throws(ProviderError) -> IPPanelSendResult {
        let result = IPPanelSendResult(data: data)
        guard result.bulkIDs.isEmpty else { return result }
        throw ProviderError(
            provider: .ippanel, operation: operation, kind: .unparseableResponse, code: "200",
            message: "the success answer has no message_outbox_ids", disposition: .retry(after: nil), outcomeUnknown: true,
            httpStatus: 200, redactedURL: transport.redact(url("/api/send")))
    }

    private func url(_ path: String) -> String {
        let base = configuration.baseURL.hasSuffix("/") ? String(configuration.baseURL.dropLast()) : configuration.baseURL
        return base + path
    }

    private func call(
        _ operation: String, method: HTTPMethod, path: String, body: JSONValue?, idempotent: Bool,
        logMetadata: Logger.Metadata
    ) async throws(ProviderError) -> JSONValue? {
        var meta: JSONValue?
        return try await call(
            operation, method: method, path: path, body: body, idempotent: idempotent, logMetadata: logMetadata, meta: &meta)
    }

    private func call(
        _ operation: String, method: HTTPMethod, path: String, body: JSONValue?, idempotent: Bool,
        logMetadata: Logger.Metadata, meta: inout JSONValue?
    ) async throws(ProviderError) -> JSONValue? {
        let url = url(path)
        let request = ProviderRequest(
            method: method,
            url: url,
            headers: [
                ("Authorization", configuration.apiKey),
                ("Content-Type", "application/json"),
                ("Accept", "application/json"),
            ],
            body: body?.encoded(),
            operation: operation,
            idempotent: idempotent,
            logMetadata: logMetadata
        )
        let response = try await transport.send(request)
        let redactedURL = transport.redact(url)
        guard let json = JSONValue.parse(response.body), let envelopeMeta = json["meta"],
            let ok = envelopeMeta["status"]?.boolValue
        else {
            throw ProviderError(
                provider: .ippanel, operation: operation, kind: .unparseableResponse, code: String(response.status),
                message: BodyExcerpt.of(response.body, redactor: transport.redactor),
                disposition: IPPanelDisposition.dispositionForUnparseable(httpStatus: response.status),
                outcomeUnknown: !idempotent && HTTPStatusFallback.mayHaveTakenEffect(httpStatus: response.status),
                httpStatus: response.status, redactedURL: redactedURL)
        }
        meta = envelopeMeta
        if ok && (200...299).contains(response.status) {
            return json["data"]
        }
        let code = envelopeMeta["message_code"]?.stringValue
        var message = envelopeMeta["message"]?.stringValue ?? ""
        if case .object(let errors)? = envelopeMeta["errors"] {
            let details = errors.keys.sorted().map { field in
                let texts = errors[field]?.arrayValue?.compactMap(\.stringValue) ?? [errors[field]?.stringValue ?? ""]
                return "\(field): \(texts.joined(separator: "; "))"
            }
            message += (message.isEmpty ? "" : " — ") + details.joined(separator: ", ")
        }
        let disposition = IPPanelDisposition.disposition(httpStatus: response.status, messageCode: code)
        throw ProviderError(
            provider: .ippanel, operation: operation, kind: .rejected, code: code ?? String(response.status),
            message: transport.redact(message), disposition: disposition,
            outcomeUnknown: !idempotent && response.status >= 500, httpStatus: response.status, redactedURL: redactedURL)
    }

    private func invalidRequest(_ operation: String, _ reason: String) -> ProviderError {
        // 400-2 is the code IPPanel would answer with (validation error).
        ProviderError(
            provider: .ippanel, operation: operation, kind: .invalidRequest, code: "400-2", message: reason,
            disposition: .permanent, redactedURL: transport.redact(url("/api/send")))
    }
}

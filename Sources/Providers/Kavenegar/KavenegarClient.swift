import AsyncHTTPClient
import Logging
import NIOHTTP1

/// Kavenegar SMS REST v1 client: `verify/lookup`, `sms/send`, `sms/status`, `account/info`.
///
/// Wire format as the official SDK sends it (docs/providers.md §2.1): always `POST`, form-encoded UTF-8 body with `+`
/// sent as `%2B`, URL `{baseURL}/{API-KEY}/{scope}/{method}.json`. The code is read from `return.status` in the
/// body even on an HTTP 4xx, and every failure becomes a ``ProviderError`` with the disposition of Table 1.
public struct KavenegarClient: Sendable {
    /// The configuration in use.
    public let configuration: Configuration
    private let transport: ProviderTransport

    /// Creates a client.
    /// - Parameters:
    ///   - configuration: base URL, key, sender, timeouts.
    ///   - httpClient: shared by every provider client of the process, made at its first request.
    ///   - logger: receives redacted request/response lines (receptors masked, no tokens, no key).
    public init(
        configuration: Configuration,
        httpClient: ProviderHTTPClient,
        logger: Logger = Logger(label: "hoopoe.providers.kavenegar")
    ) {
        self.configuration = configuration
        self.transport = ProviderTransport(
            provider: .kavenegar,
            http: httpClient,
            logger: logger,
            totalTimeout: configuration.timeouts.total,
            redactor: Redactor(secrets: [configuration.apiKey]),
            connectTimeout: configuration.timeouts.connect
        )
    }

    /// Creates a client over an `HTTPClient` the caller made and shuts down (by default AsyncHTTPClient's shared one).
    public init(
        configuration: Configuration,
        httpClient: HTTPClient = .shared,
        logger: Logger = Logger(label: "hoopoe.providers.kavenegar")
    ) {
        self.init(configuration: configuration, httpClient: ProviderHTTPClient(httpClient), logger: logger)
    }

    /// Sends a templated message with `verify/lookup`.
    ///
    /// Tokens are validated first (no request is made if one would give `431`/`428`/`406`). Not idempotent: a
    /// timeout or 5xx is flagged `outcomeUnknown` with a suggested cap of 2 attempts.
    public func lookup(_ request: KavenegarLookup) async throws(ProviderError) -> [KavenegarMessage] {
        let operation = "verify/lookup"
        if let violation = request.violation() {
            throw invalidRequest(operation, violation)
        }
        let envelope = try await call(
            operation,
            fields: request.formFields,
            idempotent: false,
            attemptCap: 2,
            senderIsOurs: true,
            logMetadata: ["receptor": "\(PhoneMask.mask(request.receptor))", "template": "\(request.template)"]
        )
        return try sentMessages(envelope, operation: operation, idempotent: false, attemptCap: 2)
    }

    /// Sends one text with `sms/send`, one `localid` per receptor, so a retry returns the existing records instead
    /// of sending again.
    public func send(_ request: KavenegarSend) async throws(ProviderError) -> [KavenegarMessage] {
        let operation = "sms/send"
        if let violation = request.violation() {
            throw invalidRequest(operation, violation)
        }
        let sender = request.sender ?? configuration.sender
        let envelope = try await call(
            operation,
            fields: request.formFields(sender: sender),
            idempotent: true,
            attemptCap: nil,
            senderIsOurs: request.sender == nil || request.sender == configuration.sender,
            logMetadata: ["receptors": "\(PhoneMask.mask(request.receptors))", "localids": "\(request.localIDs.joined(separator: ","))"]
        )
        return try sentMessages(envelope, operation: operation, idempotent: true, attemptCap: nil)
    }

    /// Reads delivery statuses with `sms/status`, in batches of at most 500 ids (else `414`).
    ///
    /// Only the last 48 hours are reported; older, invalid or foreign ids come back as status `100`
    /// (``DeliveryState/expired``), not as an error.
    public func status(messageIDs: [Int64]) async throws(ProviderError) -> [KavenegarMessageStatus] {
        var statuses: [KavenegarMessageStatus] = []
        var start = 0
        while start < messageIDs.count {
            let batch = messageIDs[start..<min(start + Self.statusBatchSize, messageIDs.count)]
            start += Self.statusBatchSize
            let envelope = try await call(
                "sms/status",
                fields: [("messageid", batch.map(String.init).joined(separator: ","))],
                idempotent: true,
                attemptCap: nil,
                senderIsOurs: true,
                logMetadata: ["count": "\(batch.count)"]
            )
            statuses += envelope.entryList.compactMap(KavenegarMessageStatus.init(json:))
        }
        return statuses
    }

    /// Reads the remaining credit with `account/info`.
    public func accountInfo() async throws(ProviderError) -> KavenegarAccountInfo {
        let operation = "account/info"
        let envelope = try await call(operation, fields: [], idempotent: true, attemptCap: nil, senderIsOurs: true, logMetadata: [:])
        guard let entries = envelope.entries, let info = KavenegarAccountInfo(json: entries) else {
            throw ProviderError(
                provider: .kavenegar, operation: operation, kind: .unparseableResponse, code: "200",
                message: "account/info entries lack remaincredit", disposition: .retry(after: nil), httpStatus: 200,
                redactedURL: transport.redact(url(operation)))
        }
        return info
    }

    /// Largest id count per `sms/status` call.
    public static let statusBatchSize = 500

    // MARK: - Wire

    func url(_ operation: String) -> String {
        let base = configuration.baseURL.hasSuffix("/") ? String(configuration.baseURL.dropLast()) : configuration.baseURL
        return "\(base)/\(FormEncoding.percentEncode(configuration.apiKey))/\(operation).json"
    }

    /// One Kavenegar call (internal: the outbox reads in KavenegarClient+Outbox.swift use it too).
    func call(
        _ operation: String,
        fields: [(String, String)],
        idempotent: Bool,
        attemptCap: Int?,
        senderIsOurs: Bool,
        logMetadata: Logger.Metadata
    ) async throws(ProviderError) -> KavenegarEnvelope {
        let url = url(operation)
        let request = ProviderRequest(
            method: .POST,
            url: url,
            headers: [
                ("Accept", "application/json"),
                ("Content-Type", "application/x-www-form-urlencoded; charset=utf-8"),
            ],
            body: Array(FormEncoding.encode(fields).utf8),
            operation: operation,
            idempotent: idempotent,
            transportAttemptCap: attemptCap,
            logMetadata: logMetadata
        )
        let response = try await transport.send(request)
        let redactedURL = transport.redact(url)
        guard let envelope = KavenegarEnvelope.parse(response.body) else {
            // Not Kavenegar's answer (a WAF's or proxy's page, a wrong base path): no verdict on the input, so never
            // permanent (HTTPStatusFallback).
            let mayHaveTakenEffect = HTTPStatusFallback.mayHaveTakenEffect(httpStatus: response.status)
            throw ProviderError(
                provider: .kavenegar, operation: operation, kind: .unparseableResponse, code: String(response.status),
                message: BodyExcerpt.of(response.body, redactor: transport.redactor),
                disposition: HTTPStatusFallback.disposition(httpStatus: response.status),
                outcomeUnknown: !idempotent && mayHaveTakenEffect, httpStatus: response.status,
                redactedURL: redactedURL, suggestedMaxAttempts: mayHaveTakenEffect ? attemptCap : nil)
        }
        guard envelope.status != 200 else { return envelope }
        let (disposition, cap) =
            KavenegarDisposition.disposition(for: envelope.status, senderIsOurs: senderIsOurs)
            ?? (HTTPStatusFallback.dispositionForUnlistedCode(httpStatus: response.status == 200 ? 400 : response.status), nil)
        throw ProviderError(
            provider: .kavenegar, operation: operation, kind: .rejected, code: String(envelope.status),
            message: transport.redact(envelope.message), disposition: disposition, outcomeUnknown: false,
            httpStatus: response.status, redactedURL: redactedURL, suggestedMaxAttempts: cap)
    }

    /// The messages a send's success answer lists; a success with none (no `entries`, or none readable) throws.
    ///
    /// `return.status` 200 says Kavenegar took the request, so the SMS may well have gone out, but without its
    /// `messageid` it can be neither recorded nor polled: "sent" with no ids is a message nobody can follow. It is a
    /// lost answer: `unparseableResponse`, retried, with the outcome unknown for a `verify/lookup` (no dedupe key: the
    /// job asks the outbox before it sends again) and known for `sms/send` (its `localid` makes a re-send return the
    /// existing records).
    private func sentMessages(_ envelope: KavenegarEnvelope, operation: String, idempotent: Bool, attemptCap: Int?) throws(ProviderError)
        -> [KavenegarMessage]
    {
        let messages = envelope.entryList.compactMap(KavenegarMessage.init(json:))
        guard messages.isEmpty else { return messages }
        throw ProviderError(
            provider: .kavenegar, operation: operation, kind: .unparseableResponse, code: "200",
            message: "the success answer lists no message (entries missing or unreadable)", disposition: .retry(after: nil),
            outcomeUnknown: !idempotent, httpStatus: 200, redactedURL: transport.redact(url(operation)),
            suggestedMaxAttempts: idempotent ? nil : attemptCap)
    }

    private func invalidRequest(_ operation: String, _ violation: KavenegarTokenRules.Violation) -> ProviderError {
        ProviderError(
            provider: .kavenegar, operation: operation, kind: .invalidRequest, code: String(violation.code),
            message: violation.reason, disposition: .permanent, redactedURL: transport.redact(url(operation)))
    }
}

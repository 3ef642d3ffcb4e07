import HoopoeJSON
import AsyncHTTPClient
import Logging
import NIOHTTP1

/// Brevo (Sendinblue) client: the reseller routes — create child, creation status, get child, list children, add
/// credits, associate a dedicated IP (docs/providers.md §4) — and transactional email (``sendTransactionalEmail(_:)``,
/// ``emailEvents(tag:email:days:)``, in BrevoClient+Email.swift).
///
/// Auth is the `api-key` header; errors are `{code, message}` bodies classified by §4.5; every result and error
/// carries the `x-sib-ratelimit-*` headers.
public struct BrevoClient: Sendable {
    /// Largest `limit` accepted by the children list.
    public static let maximumPageSize = 20

    /// The configuration in use.
    public let configuration: Configuration
    let transport: ProviderTransport

    /// Creates a client.
    /// - Parameters:
    ///   - configuration: base URL, keys, timeouts.
    ///   - httpClient: shared by every provider client of the process, made at its first request.
    ///   - logger: receives redacted lines (no keys, no passwords).
    public init(
        configuration: Configuration,
        httpClient: ProviderHTTPClient,
        logger: Logger = Logger(label: "hoopoe.providers.brevo")
    ) {
        self.configuration = configuration
        self.transport = ProviderTransport(
            provider: .brevo, http: httpClient, logger: logger, totalTimeout: configuration.timeouts.total,
            redactor: Redactor(secrets: [configuration.apiKey] + (configuration.partnerKey.map { [$0] } ?? [])),
            connectTimeout: configuration.timeouts.connect)
    }

    /// Creates a client over an `HTTPClient` the caller made and shuts down (by default AsyncHTTPClient's shared one).
    public init(
        configuration: Configuration,
        httpClient: HTTPClient = .shared,
        logger: Logger = Logger(label: "hoopoe.providers.brevo")
    ) {
        self.init(configuration: configuration, httpClient: ProviderHTTPClient(httpClient), logger: logger)
    }

    /// Creates a child account (`POST /reseller/children`). Persist `authKey` and `id` at once.
    ///
    /// Not idempotent: a timeout or 5xx is flagged `outcomeUnknown` — call ``findChild(email:)`` before sending
    /// again. A `400 duplicate_parameter` is reconciled here: if a child with this email exists it is returned
    /// with `adopted == true`, otherwise the error is permanent. (Whether Brevo really answers an existing email
    /// with `duplicate_parameter` is an open question, docs/providers.md §6.3.)
    ///
    /// `adoptingDuplicate: false` throws the `duplicate_parameter` error as it came, for a caller that searches the
    /// children list across attempts (``findChild(email:from:reached:)``): the search here starts from 0 and, on a
    /// reseller with more children than an hour's budget reads, never ends.
    public func createChild(_ child: BrevoNewChild, adoptingDuplicate: Bool = true) async throws(ProviderError) -> BrevoResponse<BrevoCreatedChild> {
        do throws(ProviderError) {
            let operation = "reseller/createChild"
            let (json, rateLimit) = try await call(
                operation, method: .POST, path: "/reseller/children", body: child.body, idempotent: false)
            let created = BrevoCreatedChild(authKey: json?["authKey"]?.stringValue, id: json?["id"]?.int64Value, adopted: false)
            // Neither the key nor the id: the child may exist, but this answer does not say which (a lost answer: the
            // caller lists the children by email before creating again). One of them is enough to go on.
            guard created.authKey != nil || created.id != nil else {
                throw unreadable(operation, path: "/reseller/children", lacking: "authKey and id", idempotent: false, rateLimit: rateLimit)
            }
            return BrevoResponse(value: created, rateLimit: rateLimit)
        } catch let error where adoptingDuplicate && error.httpStatus == 400 && error.code == "duplicate_parameter" {
            let existing = try await findChild(email: child.email)
            if let id = existing.value?.id {
                return BrevoResponse(value: BrevoCreatedChild(authKey: nil, id: id, adopted: true), rateLimit: existing.rateLimit)
            }
            throw error
        }
    }

    /// Whether Brevo has finished creating the child (`GET …/accountCreationStatus`). Brevo asks for this before
    /// any other child-specific call; if false, poll again later.
    public func creationStatus(of child: BrevoChildIdentifier) async throws(ProviderError) -> BrevoResponse<Bool> {
        let operation = "reseller/accountCreationStatus"
        let path = "/reseller/children/\(child.pathComponent)/accountCreationStatus"
        let (json, rateLimit) = try await call(operation, method: .GET, path: path, body: nil, idempotent: true, extraSecrets: child.secrets)
        guard let created = json?["childAccountCreated"]?.boolValue else {
            throw unreadable(operation, path: path, lacking: "childAccountCreated", idempotent: true, extraSecrets: child.secrets, rateLimit: rateLimit)
        }
        return BrevoResponse(value: created, rateLimit: rateLimit)
    }

    /// One child's details, including remaining credits (`GET /reseller/children/{id}`).
    ///
    /// An answer without the child's `email` or its two credit numbers throws `unparseableResponse` (retry): the
    /// credits are what this read is for, and read as 0 they told `sendinblue.register` that credits whose answer was
    /// lost had not arrived, so it added them a second time.
    public func child(_ child: BrevoChildIdentifier) async throws(ProviderError) -> BrevoResponse<BrevoChild> {
        let operation = "reseller/getChild"
        let path = "/reseller/children/\(child.pathComponent)"
        let (json, rateLimit) = try await call(operation, method: .GET, path: path, body: nil, idempotent: true, extraSecrets: child.secrets)
        guard let json, json["email"]?.stringValue != nil else {
            throw unreadable(operation, path: path, lacking: "email", idempotent: true, extraSecrets: child.secrets, rateLimit: rateLimit)
        }
        let details = BrevoChild(json: json)
        guard details.smsCredits != nil, details.emailCredits != nil else {
            throw unreadable(
                operation, path: path, lacking: "credits.smsCredits/emailCredits", idempotent: true, extraSecrets: child.secrets,
                rateLimit: rateLimit)
        }
        return BrevoResponse(value: details, rateLimit: rateLimit)
    }

    /// One page of children (`GET /reseller/children?limit=&offset=`), at most 20 per call. Prefer this over
    /// per-child reads to stay within the hourly budget.
    public func listChildren(limit: Int = maximumPageSize, offset: Int = 0) async throws(ProviderError)
        -> BrevoResponse<BrevoChildrenPage>
    {
        let operation = "reseller/listChildren"
        let path = "/reseller/children?limit=\(limit)&offset=\(offset)"
        guard (0...Self.maximumPageSize).contains(limit), offset >= 0 else {
            throw ProviderError(
                provider: .brevo, operation: operation, kind: .invalidRequest, code: "out_of_range",
                message: "limit must be 0…\(Self.maximumPageSize) and offset ≥ 0", disposition: .permanent,
                redactedURL: transport.redact(url(path)))
        }
        let (json, rateLimit) = try await call(operation, method: .GET, path: path, body: nil, idempotent: true)
        // Every child with its `email` and `id` (what ``findChild(email:from:reached:)`` matches and adopts), and
        // `count`: an unreadable page read as empty said "no such child", and the registration created it again.
        guard let items = json?["children"]?.arrayValue, let count = json?["count"]?.int64Value,
            items.allSatisfy({ $0["email"]?.stringValue != nil && $0["id"]?.int64Value != nil })
        else {
            throw unreadable(operation, path: path, lacking: "children (each with email and id) or count", idempotent: true, rateLimit: rateLimit)
        }
        let page = BrevoChildrenPage(children: items.map(BrevoChild.init(json:)), count: count)
        return BrevoResponse(value: page, rateLimit: rateLimit)
    }

    /// Finds a child by email by walking the children list (20 per call) from `offset`; the reconciliation step
    /// after an unknown create-child outcome. The rate limit is that of the last page read.
    ///
    /// A reseller with thousands of children needs more pages than an hour's budget (about 100 requests, §4.4): a
    /// search cut short by a 429 goes on where it stopped when the caller keeps what `reached` was told (the offset
    /// after each page read without a match) and passes it back. Started from 0 every time, it never got past the
    /// first hour's pages, and a registration whose create-child answer was lost never finished.
    public func findChild(email: String, from offset: Int = 0, reached: (@Sendable (Int) async -> Void)? = nil)
        async throws(ProviderError) -> BrevoResponse<BrevoChild?>
    {
        var offset = max(0, offset)
        var rateLimit: ProviderRateLimit?
        while true {
            let page = try await listChildren(limit: Self.maximumPageSize, offset: offset)
            rateLimit = page.rateLimit
            if let match = page.value.children.first(where: { $0.email.lowercased() == email.lowercased() }) {
                return BrevoResponse(value: match, rateLimit: rateLimit)
            }
            offset += page.value.children.count
            if page.value.children.isEmpty || Int64(offset) >= page.value.count {
                return BrevoResponse(value: nil, rateLimit: rateLimit)
            }
            await reached?(offset)
        }
    }

    /// Adds credits to a child (`POST …/credits/add`); at least one of `sms` and `email`.
    ///
    /// Not idempotent: a retry after a timeout may double-credit. Read the child's credits before the call; on an
    /// unknown outcome re-read and only re-send if the balance did not rise by the requested amount.
    public func addCredits(to child: BrevoChildIdentifier, sms: Int64? = nil, email: Int64? = nil)
        async throws(ProviderError) -> BrevoResponse<BrevoRemainingCredits>
    {
        let operation = "reseller/addCredits"
        let path = "/reseller/children/\(child.pathComponent)/credits/add"
        var body: [String: JSONValue] = [:]
        if let sms { body["sms"] = .integer(sms) }
        if let email { body["email"] = .integer(email) }
        guard !body.isEmpty else {
            throw ProviderError(
                provider: .brevo, operation: operation, kind: .invalidRequest, code: "missing_parameter",
                message: "add credits needs sms or email", disposition: .permanent,
                redactedURL: transport.redact(url(path), extra: child.secrets))
        }
        let (json, rateLimit) = try await call(
            operation, method: .POST, path: path, body: .object(body), idempotent: false, extraSecrets: child.secrets)
        guard let json, let credits = BrevoRemainingCredits(json: json) else {
            throw ProviderError(
                provider: .brevo, operation: operation, kind: .unparseableResponse, code: "200",
                message: "credits/add answer lacks child/reseller", disposition: .retry(after: nil),
                outcomeUnknown: true, httpStatus: 200, redactedURL: transport.redact(url(path), extra: child.secrets),
                rateLimit: rateLimit)
        }
        return BrevoResponse(value: credits, rateLimit: rateLimit)
    }

    /// Associates a dedicated IP with a child (`POST …/ips/associate`, 204 on success).
    public func associateIP(_ ip: String, with child: BrevoChildIdentifier) async throws(ProviderError)
        -> BrevoResponse<Void>
    {
        let (_, rateLimit) = try await call(
            "reseller/associateIP", method: .POST, path: "/reseller/children/\(child.pathComponent)/ips/associate",
            body: ["ip": .string(ip)], idempotent: true, extraSecrets: child.secrets)
        return BrevoResponse(value: (), rateLimit: rateLimit)
    }

    // MARK: - Wire

    func url(_ path: String) -> String {
        let base = configuration.baseURL.hasSuffix("/") ? String(configuration.baseURL.dropLast()) : configuration.baseURL
        return base + path
    }

    func call(
        _ operation: String, method: HTTPMethod, path: String, body: JSONValue?, idempotent: Bool,
        extraSecrets: [String] = []
    ) async throws(ProviderError) -> (JSONValue?, ProviderRateLimit?) {
        let url = url(path)
        var headers: [(String, String)] = [("api-key", configuration.apiKey)]
        if let partnerKey = configuration.partnerKey { headers.append(("partner-key", partnerKey)) }
        headers.append(("Accept", "application/json"))
        if body != nil { headers.append(("Content-Type", "application/json")) }
        let request = ProviderRequest(
            method: method, url: url, headers: headers, body: body?.encoded(), operation: operation,
            idempotent: idempotent, extraSecrets: extraSecrets)
        let response = try await transport.send(request)
        let rateLimit = Self.rateLimit(from: response.headers)
        let json = response.body.isEmpty ? nil : JSONValue.parse(response.body)
        let redactor = transport.redactor.adding(extraSecrets)
        if (200...299).contains(response.status) {
            // A success whose body is not JSON (a proxy's page with a 200) is not Brevo's answer: the call probably
            // happened, so it is retried, the outcome unknown for a call that is not idempotent (HTTPStatusFallback).
            guard json != nil || response.body.isEmpty else {
                throw ProviderError(
                    provider: .brevo, operation: operation, kind: .unparseableResponse, code: String(response.status),
                    message: BodyExcerpt.of(response.body, redactor: redactor), disposition: .retry(after: nil),
                    outcomeUnknown: !idempotent, httpStatus: response.status, redactedURL: redactor.redact(url), rateLimit: rateLimit)
            }
            return (json, rateLimit)
        }
        let code = json?["code"]?.stringValue
        let outcome = BrevoDisposition.outcome(httpStatus: response.status, code: code, rateLimit: rateLimit)
        let message = json?["message"]?.stringValue.map(redactor.redact) ?? BodyExcerpt.of(response.body, redactor: redactor)
        throw ProviderError(
            provider: .brevo, operation: operation, kind: code == nil && !response.body.isEmpty ? .unparseableResponse : outcome.kind,
            code: code ?? String(response.status), message: message,
            disposition: outcome.disposition, outcomeUnknown: !idempotent && outcome.mayHaveTakenEffect,
            httpStatus: response.status, redactedURL: transport.redact(url, extra: extraSecrets), suggestedMaxAttempts: outcome.attemptCap, rateLimit: rateLimit)
    }

    /// The error for a success answer that lacks what the caller needs (`lacking`): `unparseableResponse`, retried,
    /// the outcome unknown for a call that is not idempotent (it probably happened).
    func unreadable(
        _ operation: String, path: String, lacking: String, idempotent: Bool, extraSecrets: [String] = [], rateLimit: ProviderRateLimit?
    ) -> ProviderError {
        ProviderError(
            provider: .brevo, operation: operation, kind: .unparseableResponse, code: "200",
            message: "the success answer lacks \(lacking)", disposition: .retry(after: nil), outcomeUnknown: !idempotent,
            httpStatus: 200, redactedURL: transport.redact(url(path), extra: extraSecrets), rateLimit: rateLimit)
    }

    /// Reads `x-sib-ratelimit-limit`, `-remaining` and `-reset` (seconds until reset); nil if none is present.
    static func rateLimit(from headers: HTTPHeaders) -> ProviderRateLimit? {
        let limit = headers.first(name: "x-sib-ratelimit-limit").flatMap { Int($0) }
        let remaining = headers.first(name: "x-sib-ratelimit-remaining").flatMap { Int($0) }
        // Clamped: the header is the provider's text, and `Int64(1e300)` would stop the worker.
        let reset = headers.first(name: "x-sib-ratelimit-reset").flatMap(Double.init).flatMap(Self.resetDelay)
        if limit == nil && remaining == nil && reset == nil { return nil }
        return ProviderRateLimit(limit: limit, remaining: remaining, reset: reset)
    }

    /// `x-sib-ratelimit-reset` seconds as a delay, clamped to 0…7 days; nil for NaN or infinity. The header is the
    /// provider's text: `Int64(1e300)` would stop the worker.
    static func resetDelay(_ seconds: Double) -> Duration? {
        guard seconds.isFinite else { return nil }
        let clamped: Double = min(max(seconds, 0), 604_800)
        return .milliseconds(Int64(clamped * 1000))
    }
}

import HoopoeJSON
import Providers

/// The fake Brevo account: reseller children, credit pools, creation status, the hourly rate limit, and transactional
/// email (FakeBrevoState+Email.swift).
///
/// Implements docs/providers.md §4: `api-key` auth (401 `unauthorized`), `{code, message}` errors, JSON bodies only as
/// `Content-Type: application/json` (§4.1; else 400 `bad_request`, our wording: Brevo's answer is not documented), a
/// new child's `email` in the form of an address and `language` one of §4.2.1's (400 `invalid_parameter`),
/// `duplicate_parameter` for an existing email, `limit ≤ 20`, `404 document_not_found`, `402 not_enough_credits`, 204
/// for IP association, and `x-sib-ratelimit-*` headers on every answer with a 429 once the window is spent.
struct FakeBrevoState: Sendable {
    struct Child: Sendable {
        var id: Int64
        var authKey: String
        var email: String
        var firstName: String
        var lastName: String
        var companyName: String
        var emailCredits: Int64 = 0
        var smsCredits: Int64 = 0
        var ips: [String] = []
        /// `accountCreationStatus` answers false this many more times.
        var pendingCreationPolls: Int
    }

    var apiKey: String
    var resellerSMS: Double = 12_900
    var resellerEmail: Double = 2_000_000
    /// How many `accountCreationStatus` reads answer false for a new child.
    var creationPolls = 0
    var children: [Child] = []
    var nextID: Int64 = 1_234_567
    var rateLimit = 100
    var rateRemaining = 100
    var rateReset = 3600
    /// The transactional email routes' own window (Brevo: 3,600,000 requests/hour for `POST /smtp/email`, apart from
    /// the reseller routes' ~100/hour).
    var emailRateLimit = 3_600_000
    var emailRateRemaining = 3_600_000
    var emailRateReset = 3600
    /// Transactional emails Brevo accepted (each `POST /smtp/email` that answered 201 with a new `messageId`).
    var emails: [SentEmail] = []
    /// Template ids that exist and are active in the account.
    var emailTemplates: ClosedRange<Int64> = 1...999
    /// `headers.idempotencyKey` → (messageId, when first seen): a key seen within 30 minutes is refused (`duplicate_parameter`).
    var idempotencyKeys: [String: (messageID: String, at: Double)] = [:]

    static func error(_ status: Int, _ code: String, _ message: String) -> FakeReply {
        .json(status, ["code": .string(code), "message": .string(message)])
    }

    /// `language` values a new child may have (docs/providers.md §4.2.1).
    static let languages: Set<String> = ["fr", "es", "pt", "it", "de", "en"]

    /// The answer to a `POST` whose body is not declared JSON, or nil when it is.
    static func refusingNonJSON(_ request: RecordedRequest) -> FakeReply? {
        guard request.method == "POST", !request.declaresJSON else { return nil }
        return error(400, "bad_request", "Content-Type must be application/json")
    }

    var rateHeaders: [FakeHeader] { Self.headers(limit: rateLimit, remaining: rateRemaining, reset: rateReset) }

    static func headers(limit: Int, remaining: Int, reset: Int) -> [FakeHeader] {
        [
            FakeHeader("x-sib-ratelimit-limit", String(limit)),
            FakeHeader("x-sib-ratelimit-remaining", String(max(0, remaining))),
            FakeHeader("x-sib-ratelimit-reset", String(reset)),
        ]
    }

    mutating func handle(_ request: RecordedRequest) -> FakeReply {
        if request.endpoint == .brevoSendEmail || request.endpoint == .brevoEmailEvents {
            var reply = routeEmail(request)
            reply.headers += Self.headers(limit: emailRateLimit, remaining: emailRateRemaining, reset: emailRateReset)
            return reply
        }
        var reply = route(request)
        reply.headers += rateHeaders
        return reply
    }

    /// The transactional email routes, on their own rate window.
    private mutating func routeEmail(_ request: RecordedRequest) -> FakeReply {
        guard request.header("api-key") == apiKey else { return Self.error(401, "unauthorized", "Key not found") }
        guard emailRateRemaining > 0 else { return Self.error(429, "too_many_requests", "Too many requests") }
        emailRateRemaining -= 1
        if let refusal = Self.refusingNonJSON(request) { return refusal }
        return request.endpoint == .brevoSendEmail ? sendEmail(request.body) : emailEvents(request.query)
    }

    private mutating func route(_ request: RecordedRequest) -> FakeReply {
        guard request.header("api-key") == apiKey else { return Self.error(401, "unauthorized", "Key not found") }
        guard rateRemaining > 0 else { return Self.error(429, "too_many_requests", "Too many requests") }
        rateRemaining -= 1
        if let refusal = Self.refusingNonJSON(request) { return refusal }
        let parts = request.path.dropFirst(FakeEndpoint.brevoPrefix.count + 1).split(separator: "/").map(String.init)
        let body = JSONValue.parse(request.body)
        switch request.endpoint {
        case .brevoCreateChild: return create(body)
        case .brevoListChildren: return list(request.query)
        case .brevoGetChild, .brevoCreationStatus, .brevoAddCredits, .brevoAssociateIP:
            guard let index = children.firstIndex(where: { String($0.id) == parts[2] || $0.authKey == FormEncoding.percentDecode(parts[2]) })
            else { return Self.error(404, "document_not_found", "Child auth key or child id not found") }
            switch request.endpoint {
            case .brevoGetChild: return .json(200, view(children[index], withID: false))
            case .brevoCreationStatus:
                let created = children[index].pendingCreationPolls <= 0
                children[index].pendingCreationPolls -= 1
                return .json(200, ["childAccountCreated": .bool(created)])
            case .brevoAddCredits: return addCredits(index, body)
            default:
                guard let ip = body?["ip"]?.stringValue, !ip.isEmpty else {
                    return Self.error(400, "missing_parameter", "ip is missing")
                }
                if !children[index].ips.contains(ip) { children[index].ips.append(ip) }
                return FakeReply(status: 204)
            }
        default:
            return Self.error(405, "method_not_allowed", "\(request.method) Method is not allowed on this path")
        }
    }

    private mutating func create(_ body: JSONValue?) -> FakeReply {
        var fields: [String: String] = [:]
        for name in ["email", "firstName", "lastName", "companyName", "password"] {
            guard let value = body?[name]?.stringValue, !value.isEmpty else {
                return Self.error(400, "missing_parameter", "\(name) is missing")
            }
            fields[name] = value
        }
        guard Self.isEmail(fields["email"]!) else { return Self.error(400, "invalid_parameter", "email is not valid") }
        if let language = body?["language"], language != .null {
            guard let code = language.stringValue, case .string = language, Self.languages.contains(code) else {
                return Self.error(400, "invalid_parameter", "language must be one of \(Self.languages.sorted().joined(separator: ", "))")
            }
        }
        if children.contains(where: { $0.email.lowercased() == fields["email"]!.lowercased() }) {
            return Self.error(400, "duplicate_parameter", "An account with this email already exists")
        }
        let child = Child(
            id: nextID, authKey: "xkeysib-child-\(nextID)", email: fields["email"]!, firstName: fields["firstName"]!,
            lastName: fields["lastName"]!, companyName: fields["companyName"]!, pendingCreationPolls: creationPolls)
        nextID += 1
        children.append(child)
        return .json(201, ["authKey": .string(child.authKey), "id": .integer(child.id)])
    }

    private func list(_ query: [String: String]) -> FakeReply {
        let limit = query["limit"].flatMap { Int($0) } ?? 10
        let offset = query["offset"].flatMap { Int($0) } ?? 0
        guard (0...20).contains(limit), offset >= 0 else { return Self.error(400, "out_of_range", "limit must be between 0 and 20") }
        let page = children.dropFirst(offset).prefix(limit).map { view($0, withID: true) }
        return .json(200, ["children": .array(Array(page)), "count": .integer(Int64(children.count))])
    }

    private mutating func addCredits(_ index: Int, _ body: JSONValue?) -> FakeReply {
        let sms = body?["sms"]?.int64Value
        let email = body?["email"]?.int64Value
        guard sms != nil || email != nil else { return Self.error(400, "missing_parameter", "sms or email is required") }
        guard Double(sms ?? 0) <= resellerSMS, Double(email ?? 0) <= resellerEmail else {
            return Self.error(402, "not_enough_credits", "Not enough credits in the reseller account")
        }
        resellerSMS -= Double(sms ?? 0)
        resellerEmail -= Double(email ?? 0)
        children[index].smsCredits += sms ?? 0
        children[index].emailCredits += email ?? 0
        let child = children[index]
        return .json(200, [
            "child": ["sms": .double(Double(child.smsCredits)), "email": .double(Double(child.emailCredits))],
            "reseller": ["sms": .double(resellerSMS), "email": .double(resellerEmail)],
        ])
    }

    private func view(_ child: Child, withID: Bool) -> JSONValue {
        var object: [String: JSONValue] = [
            "email": .string(child.email), "firstName": .string(child.firstName), "lastName": .string(child.lastName),
            "companyName": .string(child.companyName), "password": "encrypted",
            "credits": ["emailCredits": .integer(child.emailCredits), "smsCredits": .integer(child.smsCredits)],
            "statistics": ["previousMonthTotalSent": 0, "currentMonthTotalSent": 0, "totalSent": 0],
            "ips": .array(child.ips.map(JSONValue.string)),
            "apiKeys": ["v2": [["name": "default", "key": "fake-v2-key"]], "v3": [["name": "default", "key": .string(child.authKey)]]],
        ]
        if withID { object["id"] = .integer(child.id) }
        return .object(object)
    }
}

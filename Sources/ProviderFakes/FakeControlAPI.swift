import Foundation
import HoopoeJSON
import Providers

/// The fakes' control API over HTTP (`hoopoe dev fake-providers --control`), for black-box tests and clients in
/// other languages; Swift tests use ``FakeProviderControl`` directly. JSON in, JSON out, under `/_control`:
///
/// | call | does |
/// | --- | --- |
/// | `GET /_control/endpoints` | the endpoint names faults and filters take |
/// | `POST /_control/faults` `{"endpoint", "fault", "times"}` | queues `times` (default 1) copies of a fault |
/// | `GET /_control/faults` | faults still queued, per endpoint |
/// | `GET /_control/requests[?endpoint=…]` | the recorded requests, oldest first |
/// | `POST /_control/reset` | fresh accounts, no faults, no recorded requests |
/// | `POST /_control/kavenegar` | `links_restricted`, `credit`, `lifecycle`, `lines`, `templates`, `message_status` |
/// | `POST /_control/ippanel` | `bulk_states`, `recipient_statuses`, `credit` |
/// | `POST /_control/brevo` | `reseller_credits`, `creation_polls`, `rate_limit`, `email_rate_limit`, `email_templates`, `child_credits` (FakeControlAPI+Brevo.swift) |
///
/// A fault is `{"kind": …}` with `kind` one of: `status` (the provider's own error envelope for `status`: Kavenegar
/// mirrors it into `return.status`; IPPanel takes `message_code`; Brevo `code`; `message` optional), `reply` (raw
/// `status`, `body`, `headers`), `delay` (`seconds`, then the normal answer), `answer_late` (the normal work, then
/// `seconds` before answering), `drop` (the normal work, then the connection is closed with no answer), `slow_body`
/// (the normal work and answer, its head at once and its body one byte every `seconds`), `oversized_body` (the normal
/// work and answer, its body padded with spaces to `bytes`, default 5 MiB, at most 64 MiB, with no `Content-Length`).
/// "Succeed after N failures" is a fault with `"times": N`.
struct FakeControlAPI: Sendable {
    static let prefix = "/_control"
    /// Delays are clamped to this (seconds): a typo cannot hang a test run for hours.
    static let maximumDelay = 600.0
    /// An `oversized_body` without `bytes`: over the provider clients' 4 MiB limit.
    static let defaultOversizedBytes = 5 << 20
    /// The largest `oversized_body` (64 MiB): bigger than any limit worth testing, small enough for a test machine.
    static let maximumOversizedBytes = 64 << 20

    let control: FakeProviderControl

    static func problem(_ status: Int, _ message: String) -> FakeReply {
        .json(status, ["error": .string(message)])
    }

    func respond(method: String, target: String, body: [UInt8]) async -> FakeReply {
        let parts = target.split(separator: "?", maxSplits: 1)
        let path = String(parts.first ?? "").dropFirst(Self.prefix.count)
        let query = parts.count > 1 ? Dictionary(FormEncoding.decode(String(parts[1])), uniquingKeysWith: { first, _ in first }) : [:]
        let json = body.isEmpty ? JSONValue.object([:]) : JSONValue.parse(body)
        switch (method, String(path)) {
        case ("GET", "/endpoints"):
            return .json(200, ["endpoints": .array(FakeEndpoint.allCases.filter { $0 != .unknown }.map { .string($0.rawValue) })])
        case ("POST", "/faults"):
            guard let json else { return Self.problem(400, "the body is not JSON") }
            return await queueFault(json)
        case ("GET", "/faults"):
            let pending = await control.pendingFaults()
            return .json(200, ["pending": .object(Dictionary(uniqueKeysWithValues: pending.map { ($0.key.rawValue, .integer(Int64($0.value))) }))])
        case ("DELETE", "/faults"):
            await control.clearFaults()
            return .json(200, ["cleared": true])
        case ("GET", "/requests"):
            var requests = await control.requests()
            if let name = query["endpoint"] {
                guard let endpoint = FakeEndpoint(rawValue: name) else { return Self.problem(400, "unknown endpoint \(name)") }
                requests = requests.filter { $0.endpoint == endpoint }
            }
            return .json(200, ["requests": .array(requests.map(Self.describe))])
        case ("DELETE", "/requests"):
            await control.clearRequests()
            return .json(200, ["cleared": true])
        case ("POST", "/reset"):
            await control.reset()
            return .json(200, ["reset": true])
        case ("POST", "/kavenegar"):
            guard let json, json.isObject else { return Self.problem(400, "expected a JSON object") }
            return await kavenegar(json)
        case ("POST", "/ippanel"):
            guard let json, json.isObject else { return Self.problem(400, "expected a JSON object") }
            return await ippanel(json)
        case ("POST", "/brevo"):
            guard let json, json.isObject else { return Self.problem(400, "expected a JSON object") }
            return await brevo(json)
        default:
            return Self.problem(404, "no control call \(method) \(Self.prefix)\(path); see `hoopoe dev fake-providers --help`")
        }
    }

    private static func describe(_ request: RecordedRequest) -> JSONValue {
        [
            "endpoint": .string(request.endpoint.rawValue), "method": .string(request.method), "target": .string(request.target),
            "headers": .array(request.headers.map { JSONValue.array([.string($0.name), .string($0.value)]) }), "body": .string(request.bodyText),
        ]
    }

    private func queueFault(_ json: JSONValue) async -> FakeReply {
        guard let name = json["endpoint"]?.stringValue, let endpoint = FakeEndpoint(rawValue: name), endpoint != .unknown else {
            return Self.problem(400, "`endpoint` must be one of GET \(Self.prefix)/endpoints")
        }
        let times = json["times"].map { $0.int64Value ?? -1 } ?? 1
        guard (1...1000).contains(times) else { return Self.problem(400, "`times` must be 1…1000") }
        let fault: FakeFault
        switch Self.fault(json["fault"] ?? [:], for: endpoint) {
        case .success(let value): fault = value
        case .failure(let problem): return Self.problem(400, problem.message)
        }
        for _ in 0..<times { await control.enqueue(fault, for: endpoint) }
        return .json(200, ["queued": .integer(times), "endpoint": .string(endpoint.rawValue)])
    }

    struct Problem: Error { var message: String }

    /// Reads a fault description; see the type's documentation for the kinds.
    static func fault(_ json: JSONValue, for endpoint: FakeEndpoint) -> Result<FakeFault, Problem> {
        func seconds() -> Result<Duration, Problem> {
            guard let value = json["seconds"]?.doubleValue, value.isFinite, value >= 0 else {
                return .failure(Problem(message: "`seconds` must be a number ≥ 0"))
            }
            return .success(.milliseconds(Int64((min(value, maximumDelay) * 1000).rounded())))
        }
        switch json["kind"]?.stringValue {
        case "status":
            guard let status = json["status"]?.int64Value, (100...999).contains(status) else {
                return .failure(Problem(message: "`status` must be a 3-digit code"))
            }
            let code = Int(status)
            let message = json["message"]?.stringValue
            switch endpoint.provider {
            case "kavenegar":
                return .success(.kavenegar(code: code, message: message))
            case "ippanel":
                let messageCode = json["message_code"]?.stringValue ?? (code == 401 ? "400-1" : code == 422 ? "400-2" : "\(code)-0")
                return .success(.ippanel(httpStatus: code, messageCode: messageCode, message: message ?? "خطا", errors: [:]))
            default:
                return .success(.brevo(httpStatus: code, code: json["code"]?.stringValue ?? "error", message: message ?? "error"))
            }
        case "reply":
            guard let status = json["status"]?.int64Value, (100...999).contains(status) else {
                return .failure(Problem(message: "`status` must be a 3-digit code"))
            }
            var headers: [FakeHeader] = []
            if case .object(let map)? = json["headers"] {
                headers = map.keys.sorted().compactMap { key in map[key]?.stringValue.map { FakeHeader(key, $0) } }
            }
            return .success(.reply(FakeReply(status: Int(status), headers: headers, body: Array((json["body"]?.stringValue ?? "").utf8))))
        case "delay":
            return seconds().map(FakeFault.delay)
        case "answer_late":
            return seconds().map(FakeFault.succeedThenDelay)
        case "drop":
            return .success(.succeedThenDrop)
        case "slow_body":
            return seconds().map(FakeFault.slowBody)
        case "oversized_body":
            let bytes = json["bytes"].map { $0.int64Value ?? -1 } ?? Int64(defaultOversizedBytes)
            guard (1...Int64(maximumOversizedBytes)).contains(bytes) else {
                return .failure(Problem(message: "`bytes` must be 1…\(maximumOversizedBytes)"))
            }
            return .success(.oversizedBody(bytes: Int(bytes)))
        default:
            return .failure(Problem(message: "`fault.kind` must be status, reply, delay, answer_late, drop, slow_body or oversized_body"))
        }
    }

    private func kavenegar(_ json: JSONValue) async -> FakeReply {
        if let flag = json["links_restricted"]?.boolValue { await control.setKavenegarLinksRestricted(flag) }
        if let credit = json["credit"]?.int64Value { await control.setKavenegarCredit(credit) }
        if let lifecycle = json["lifecycle"]?.arrayValue {
            let statuses = lifecycle.compactMap { $0.int64Value.flatMap { Int(exactly: $0) } }
            guard !statuses.isEmpty, statuses.count == lifecycle.count else { return Self.problem(400, "`lifecycle` must be Table 2 codes") }
            await control.setKavenegarLifecycle(statuses)
        }
        for line in json["lines"]?.arrayValue?.compactMap(\.stringValue) ?? [] { await control.addKavenegarLine(line) }
        for template in json["templates"]?.arrayValue?.compactMap(\.stringValue) ?? [] {
            await control.setKavenegarTemplate(template, defined: true)
        }
        if let pin = json["message_status"] {
            guard let id = pin["messageid"]?.int64Value, let status = pin["status"]?.int64Value.flatMap({ Int(exactly: $0) }) else {
                return Self.problem(400, "`message_status` takes messageid and status")
            }
            await control.setKavenegarStatus(messageID: id, status: status)
        }
        return .json(200, ["credit": .integer(await control.kavenegarCredit()), "messages": .integer(Int64(await control.kavenegarMessageCount()))])
    }

    private func ippanel(_ json: JSONValue) async -> FakeReply {
        if json["bulk_states"] != nil || json["recipient_statuses"] != nil {
            let states = json["bulk_states"]?.arrayValue?.compactMap { $0.int64Value.flatMap { Int(exactly: $0) } } ?? [1, 2, 6]
            let statuses = json["recipient_statuses"]?.arrayValue?.compactMap(\.stringValue) ?? ["0", "1", "2"]
            guard !states.isEmpty, !statuses.isEmpty else { return Self.problem(400, "`bulk_states` and `recipient_statuses` must not be empty") }
            await control.setIPPanelLifecycle(bulkStates: states, recipientStatuses: statuses)
        }
        if let credit = json["credit"]?.doubleValue, credit.isFinite { await control.setIPPanelCredit(credit) }
        return .json(200, ["bulks": .integer(Int64(await control.ippanelBulkCount()))])
    }
}

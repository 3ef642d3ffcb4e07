import Foundation
import HoopoeJSON
import Providers

/// Brevo's transactional email, as strict as its reference: `POST /v3/smtp/email` (`sendTransacEmail`) and
/// `GET /v3/smtp/statistics/events` (`getEmailEventReport`).
///
/// - `to` is required (1–99 recipients with a valid `email`); either `templateId` (an active template, else 400
///   `invalid_parameter`) or `sender` + `subject` + `htmlContent`/`textContent`; `params` a non-empty object (`{}` is
///   400 `missing_parameter` "params is blank"), `tags` an array
///   of strings, `headers` an object. 201 `{"messageId":"<…@smtp-relay.mailin.fr>"}`.
/// - `headers.idempotencyKey`: a key used in the last 30 minutes is refused with 400 `duplicate_parameter` and
///   the request is not processed (Brevo's guide "Idempotency for batch emails": "If you submit a request with an
///   idempotencyKey that was used within the last 30 minutes, the API returns a duplicate_parameter error"; the
///   2021 changelog said 15 minutes). The error's message text is not documented; this one is ours.
/// - The events report filters by `email`, `tags`, `messageId`, `templateId`, `event`, over `days` (1–90; not with
///   `startDate`/`endDate`), `limit` ≤ 5000; each accepted email has a `requests` event.
extension FakeBrevoState {
    struct SentEmail: Sendable {
        var messageID: String
        var to: [String]
        var templateID: Int64?
        var params: JSONValue?
        var tags: [String]
        var at: Date
    }

    static let idempotencyTTL: Double = 30 * 60

    mutating func sendEmail(_ raw: [UInt8]) -> FakeReply {
        guard let body = JSONValue.parse(raw), body.isObject else { return Self.error(400, "bad_request", "Input must be a valid JSON object") }
        guard let to = body["to"]?.arrayValue, !to.isEmpty else { return Self.error(400, "missing_parameter", "to is missing") }
        guard to.count <= 99 else { return Self.error(400, "out_of_range", "to: at most 99 recipients") }
        var recipients: [String] = []
        for entry in to {
            guard let email = entry["email"]?.stringValue, Self.isEmail(email) else {
                return Self.error(400, "invalid_parameter", "email is not valid in to")
            }
            recipients.append(email)
        }
        var templateID: Int64?
        if let template = body["templateId"] {
            guard case .integer(let id) = template, id > 0 else { return Self.error(400, "invalid_parameter", "templateId must be an integer") }
            guard emailTemplates.contains(id) else { return Self.error(400, "invalid_parameter", "Template ID \(id) is not valid or inactive") }
            templateID = id
        } else {
            guard body["sender"]?["email"]?.stringValue != nil else { return Self.error(400, "missing_parameter", "sender is missing") }
            guard body["subject"]?.stringValue != nil else { return Self.error(400, "missing_parameter", "subject is missing") }
            guard body["htmlContent"]?.stringValue != nil || body["textContent"]?.stringValue != nil else {
                return Self.error(400, "missing_parameter", "htmlContent or textContent is missing")
            }
        }
        if let params = body["params"], !params.isObject { return Self.error(400, "invalid_parameter", "params must be an object") }
        // Brevo refuses an empty object (sendinblue/APIv3-nodejs-library#103, a maintainer's answer of 2021-06-09).
        if case .object(let members)? = body["params"], members.isEmpty { return Self.error(400, "missing_parameter", "params is blank") }
        var tags: [String] = []
        if let value = body["tags"] {
            guard let list = value.arrayValue, list.allSatisfy({ if case .string = $0 { true } else { false } }) else {
                return Self.error(400, "invalid_parameter", "tags must be an array of strings")
            }
            tags = list.compactMap(\.stringValue)
        }
        var idempotencyKey: String?
        if let headers = body["headers"] {
            guard headers.isObject else { return Self.error(400, "invalid_parameter", "headers must be an object") }
            idempotencyKey = headers["idempotencyKey"]?.stringValue
        }
        let now = Date()
        if let key = idempotencyKey, let seen = idempotencyKeys[key], now.timeIntervalSince1970 - seen.at < Self.idempotencyTTL {
            return Self.error(400, "duplicate_parameter", "idempotencyKey was already used")
        }
        let id = "<\(Int(now.timeIntervalSince1970)).\(emails.count + 1)@smtp-relay.mailin.fr>"
        emails.append(SentEmail(messageID: id, to: recipients, templateID: templateID, params: body["params"], tags: tags, at: now))
        if let key = idempotencyKey { idempotencyKeys[key] = (id, now.timeIntervalSince1970) }
        return .json(201, ["messageId": .string(id)])
    }

    func emailEvents(_ query: [String: String]) -> FakeReply {
        let limit = query["limit"].map { Int($0) } ?? 2500
        guard let limit, (0...5000).contains(limit) else { return Self.error(400, "out_of_range", "limit must be between 0 and 5000") }
        guard let offset = query["offset"].map({ Int($0) }) ?? 0, offset >= 0 else { return Self.error(400, "invalid_parameter", "offset is invalid") }
        if query["days"] != nil, query["startDate"] != nil || query["endDate"] != nil {
            return Self.error(400, "invalid_parameter", "days is not compatible with startDate and endDate")
        }
        let days = query["days"].map { Int($0) } ?? 30
        guard let days, (1...90).contains(days) else { return Self.error(400, "out_of_range", "days must be between 1 and 90") }
        if let event = query["event"], event != "requests" {
            return .json(200, ["events": []])  // the fake only knows that Brevo accepted a send
        }
        // "Number of days in the past including today" (Brevo's reference): calendar days, here UTC's. An email
        // of yesterday 23:55 is not in `days=1` at 00:26.
        let today = Double(Int(Date().timeIntervalSince1970 / 86_400)) * 86_400
        let since = Date(timeIntervalSince1970: today - Double(days - 1) * 86_400)
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        var rows: [JSONValue] = []
        for email in emails where email.at >= since {
            if let wanted = query["messageId"], wanted != email.messageID { continue }
            if let wanted = query["templateId"], wanted != email.templateID.map(String.init) { continue }
            if let wanted = query["tags"], !wanted.split(separator: ",").contains(where: { email.tags.contains(String($0)) }) { continue }
            for address in email.to {
                if let wanted = query["email"], wanted.lowercased() != address.lowercased() { continue }
                var row: [String: JSONValue] = [
                    "email": .string(address), "date": .string(formatter.string(from: email.at)), "messageId": .string(email.messageID),
                    "event": "requests", "tag": .string(email.tags.first ?? ""), "from": "reminders@example.com",
                ]
                if let template = email.templateID { row["templateId"] = .integer(template) }
                rows.append(.object(row))
            }
        }
        if query["sort"] != "asc" { rows.reverse() }
        return .json(200, ["events": .array(Array(rows.dropFirst(offset).prefix(limit)))])
    }

    static func isEmail(_ text: String) -> Bool {
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        return parts.count == 2 && !parts[0].isEmpty && parts[1].contains(".") && !text.contains(where: \.isWhitespace)
    }
}

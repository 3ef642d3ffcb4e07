import HoopoeJSON
import Foundation
import Providers

/// The fake IPPanel Edge account: key, bulks and their `state_id` / `message_status` lifecycle.
///
/// Implements seed 003 / docs/providers.md §3: raw key in `Authorization` (else 401 `400-1` with an empty `meta.errors`),
/// the `data`/`meta` envelope, validation errors as 422 `400-2` with `meta.errors`, numbers in E.164 with `+` (§3.3),
/// JSON bodies read only with `Content-Type: application/json` (the seed's header on every call; a body sent as
/// anything else is not read, as the Laravel service behind it reads none, so a send misses its fields: 422),
/// pattern (one recipient, `params` an object of strings as the seed shows it; any pattern `code` passes: the fake
/// has no pattern registry),
/// webservice and voice-OTP sends; the reports `new_list` (filters, pagination), `by_bulk` (every field the seed
/// shows, counts as strings as the seed sends them), `bulk_stats`, and `recipients` (always listed, their
/// `message_status` only once the bulk is final), each paginated with the seed's full `meta`.
struct FakeIPPanelState: Sendable {
    struct Bulk: Sendable {
        var id: Int64
        var type: String
        var recipients: [String]
        var message: String
        var fromNumber: String
        var created: Int64
        var states: [Int]
        var stateStep = 0
        var recipientStatuses: [String]
        var recipientStep = 0
        var stateID: Int { states[min(stateStep, states.count - 1)] }
        var messageStatus: String { recipientStatuses[min(recipientStep, recipientStatuses.count - 1)] }

        /// After a report read: move the bulk one `state_id` on; once it is final (6), a recipients read moves the
        /// recipients one `message_status` on instead.
        mutating func advance(recipients: Bool) {
            if stateStep < states.count - 1 {
                stateStep += 1
            } else if recipients && stateID == 6 && recipientStep < recipientStatuses.count - 1 {
                recipientStep += 1
            }
        }
    }

    var apiKey: String
    var credit: Double = 6_084_722_932.705052
    /// `state_id`s a new bulk goes through, one step per report read.
    var bulkStates: [Int] = [1, 2, 6]
    /// `message_status` values each recipient goes through once the bulk is final.
    var recipientStatuses: [String] = ["0", "1", "2"]
    var bulks: [Int64: Bulk] = [:]
    var nextID: Int64 = 1_123_544_244
    /// The fake's clock (Unix seconds) for `time`/`time_send` and the date filters.
    var now: @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) }

    static func meta(_ status: Bool, _ message: String, _ code: String) -> [String: JSONValue] {
        ["status": .bool(status), "message": .string(message), "message_parameters": [], "message_code": .string(code)]
    }

    static func errorReply(httpStatus: Int, messageCode: String, message: String, errors: [String: [String]]?) -> FakeReply {
        var meta = meta(false, message, messageCode)
        if let errors { meta["errors"] = .object(errors.mapValues { .array($0.map(JSONValue.string)) }) }
        return .json(httpStatus, ["data": nil, "meta": .object(meta)])
    }

    static func validation(_ field: String, _ text: String) -> FakeReply {
        errorReply(httpStatus: 422, messageCode: "400-2", message: "اطلاعات ارسالی نامعتبر است", errors: [field: [text]])
    }

    static func success(_ data: JSONValue, extraMeta: [String: JSONValue] = [:]) -> FakeReply {
        .json(200, ["data": data, "meta": .object(meta(true, "انجام شد", "200-1").merging(extraMeta) { $1 })])
    }

    mutating func handle(_ request: RecordedRequest) -> FakeReply {
        guard request.header("Authorization") == apiKey else {
            return Self.errorReply(httpStatus: 401, messageCode: "400-1", message: "اطلاعات وارد شده صحیح نمی باشد", errors: [:])
        }
        // A body that is not declared JSON is not read at all (Laravel reads JSON only under a JSON content type).
        let body = request.declaresJSON ? JSONValue.parse(request.body) : nil
        switch (request.endpoint, request.method) {
        case (.ippanelSend, "POST"):
            guard request.declaresJSON else { return Self.validation("sending_type", "تکمیل گزینه نوع ارسال الزامی است") }
            return send(body)
        case (.ippanelRecipients, "GET"): return recipients(request.query)
        case (.ippanelByBulk, "POST"): return byBulk(Int64(request.path.split(separator: "/").last ?? "") ?? -1)
        case (.ippanelNewList, "POST"): return newList(body)
        case (.ippanelBulkStats, "GET"): return bulkStats(request.query)
        case (.ippanelCredit, "GET"):
            return Self.success(["credit": .double(credit), "yesterday_credit": 0, "gift": 0, "gift_expires_at": nil])
        default:
            return Self.errorReply(httpStatus: 404, messageCode: "400-0", message: "not found", errors: nil)
        }
    }

    /// The seed's pagination `meta` for `count` rows of `total`, merged into the success meta.
    static func pagination(page: Int, perPage: Int, count: Int, total: Int, path: String) -> [String: JSONValue] {
        let lastPage = max(1, (total + max(perPage, 1) - 1) / max(perPage, 1))
        let from = (page - 1).multipliedReportingOverflow(by: perPage).partialValue + 1
        return [
            "current_page": .integer(Int64(page)), "last_page": .integer(Int64(lastPage)), "per_page": .integer(Int64(perPage)),
            "path": .string(path), "total": .integer(Int64(total)),
            "from": count == 0 ? JSONValue.null : .integer(Int64(from)), "to": count == 0 ? JSONValue.null : .integer(Int64(from + count - 1)),
        ]
    }

    /// A positive page number or size from a query or body value, clamped (a huge or negative value cannot trap).
    static func positive(_ value: JSONValue?, default fallback: Int, max limit: Int) -> Int {
        guard let number = value?.int64Value else { return fallback }
        return Int(Swift.min(Swift.max(number, 1), Int64(limit)))
    }

    /// "The number is not valid": a validation error for a number not in E.164 with its `+` (docs/providers.md §3.3).
    static let badNumber = "شماره وارد شده معتبر نیست"

    private mutating func send(_ body: JSONValue?) -> FakeReply {
        guard let body, body.isObject else { return Self.validation("body", "invalid json") }
        switch body["sending_type"]?.stringValue {
        case "pattern":
            guard let code = body["code"]?.stringValue, !code.isEmpty else { return Self.validation("code", "تکمیل گزینه کد الزامی است") }
            guard let recipients = body["recipients"]?.arrayValue?.compactMap(\.stringValue), recipients.count == 1 else {
                return Self.validation("recipients", "فقط یک گیرنده مجاز است")
            }
            guard recipients.allSatisfy(IPPanelNumberRules.isE164) else { return Self.validation("recipients", Self.badNumber) }
            guard case .object(let given)? = body["params"] else { return Self.validation("params", "تکمیل گزینه پارامترها الزامی است") }
            // Each placeholder's value is text, as in the seed's `"params": {"code": "متن جایگذاری"}`.
            for (name, value) in given.sorted(by: { $0.key < $1.key }) {
                guard case .string = value else { return Self.validation("params.\(name)", "مقدار پارامتر باید متن باشد") }
            }
            guard let from = body["from_number"]?.stringValue, !from.isEmpty else {
                return Self.validation("from_number", "تکمیل گزینه شماره فرستنده الزامی است")
            }
            guard IPPanelNumberRules.isE164(from) else { return Self.validation("from_number", Self.badNumber) }
            // The text as sent: the pattern with its values filled in (the fake's pattern is the code, then each
            // placeholder's value in name order), so reports show what the recipient got, as IPPanel's do.
            var params: [String: JSONValue] = [:]
            if case .object(let map)? = body["params"] { params = map }
            let values = params.sorted { $0.key < $1.key }.map { $0.value.stringValue ?? "" }
            let text = ([code] + values).joined(separator: " ")
            return Self.success(["message_outbox_ids": [.integer(record("pattern", recipients, text, from))]])
        case "webservice", "normal":
            guard let message = body["message"]?.stringValue, !message.isEmpty else {
                return Self.validation("message", "تکمیل گزینه پیام الزامی است")
            }
            guard let recipients = body["params"]?["recipients"]?.arrayValue?.compactMap(\.stringValue), !recipients.isEmpty else {
                return Self.validation("params.recipients", "تکمیل گزینه گیرندگان الزامی است")
            }
            guard recipients.allSatisfy(IPPanelNumberRules.isE164) else { return Self.validation("params.recipients", Self.badNumber) }
            guard let from = body["from_number"]?.stringValue, !from.isEmpty else {
                return Self.validation("from_number", "تکمیل گزینه شماره فرستنده الزامی است")
            }
            guard IPPanelNumberRules.isE164(from) else { return Self.validation("from_number", Self.badNumber) }
            return Self.success(["message_outbox_ids": [.integer(record("webservice", recipients, message, from))]])
        case "votp":
            guard let code = body["message"]?.stringValue, !code.isEmpty else {
                return Self.validation("message", "تکمیل گزینه پیام الزامی است")
            }
            guard code.allSatisfy({ $0.isASCII && $0.isNumber }) else { return Self.validation("message", "کد باید عدد باشد") }
            guard let recipients = body["params"]?["recipients"]?.arrayValue?.compactMap(\.stringValue), recipients.count == 1 else {
                return Self.validation("params.recipients", "فقط یک گیرنده مجاز است")
            }
            guard recipients.allSatisfy(IPPanelNumberRules.isE164) else { return Self.validation("params.recipients", Self.badNumber) }
            return Self.success(["message_outbox_ids": [.integer(record("sendvoice", recipients, code, "+98votp"))]])
        default:
            return Self.validation("sending_type", "نوع ارسال نامعتبر است")
        }
    }

    private mutating func recipients(_ query: [String: String]) -> FakeReply {
        guard let bulkID = query["bulk_id"].flatMap({ Int64($0) }) else {
            return Self.validation("bulk_id", "تکمیل گزینه bulk_id الزامی است")
        }
        let page = Self.positive(query["page"].map(JSONValue.string), default: 1, max: 1_000_000)
        let perPage = Self.positive(query["per_page"].map(JSONValue.string), default: 10, max: 1000)
        let path = "/api/report/recipients"
        guard let bulk = bulks[bulkID] else {
            return Self.success([], extraMeta: Self.pagination(page: page, perPage: perPage, count: 0, total: 0, path: path))
        }
        bulks[bulkID]?.advance(recipients: true)  // report the current step, then move on
        let rows: [JSONValue] = bulk.recipients.map {
            ["recipient": .string($0), "message": .string(bulk.message), "is_readable": true, "msg_parts": "1",
             "message_status": bulk.stateID == 6 ? JSONValue.string(bulk.messageStatus) : JSONValue.null]
        }
        let slice = Array(rows.dropFirst((page - 1) * perPage).prefix(perPage))
        return Self.success(
            .array(slice), extraMeta: Self.pagination(page: page, perPage: perPage, count: slice.count, total: rows.count, path: path))
    }

    /// One outbox row with every field the seed shows; counts and times are strings there, `state_id` a number.
    private func outboxRow(_ bulk: Bulk) -> [String: JSONValue] {
        let finished = bulk.stateID == 6
        return [
            "username": "*****", "number_color": nil, "number": .string(bulk.fromNumber), "number_id": "154845",
            "messages_outbox_id": .string(String(bulk.id)), "state": .string(finished ? "finish" : "active"),
            "type": .string(bulk.type), "time_send": .string(String(bulk.created)), "time": .string(String(bulk.created)),
            "rcpts_count": .string(String(bulk.recipients.count)), "exit_count": .string(String(finished ? bulk.recipients.count : 0)),
            "status": .string(finished ? "پایان یافته" : "در حال ارسال"), "partner_id": nil, "in_delivery_line": 0,
            "valid": "approve", "message": .string(bulk.message), "part": "1",
            "cost": .double(Double(bulk.recipients.count) * 1064), "summary": nil, "user_ip": nil, "user_id": nil,
            "files_path": nil, "parent_id": nil, "state_id": .integer(Int64(bulk.stateID)),
        ]
    }

    private mutating func byBulk(_ id: Int64) -> FakeReply {
        guard let bulk = bulks[id] else {
            return Self.errorReply(httpStatus: 404, messageCode: "400-0", message: "پیام یافت نشد", errors: nil)
        }
        bulks[id]?.advance(recipients: false)  // report the current step, then move on
        var row = outboxRow(bulk)
        row["return"] = .integer(0)
        row["reject_comment"] = .null
        return Self.success(.object(row))
    }

    /// `POST /api/report/new_list`: the outbox, newest first, filtered by any of the seed's filters.
    private func newList(_ body: JSONValue?) -> FakeReply {
        let page = Self.positive(body?["page"], default: 1, max: 1_000_000)
        let limit = Self.positive(body?["limit"], default: 10, max: 1000)
        let filters = body?["filters"]
        if let state = filters?["state_id"], !(state.int64Value.map { (0...9).contains($0) } ?? false) {
            return Self.errorReply(httpStatus: 422, messageCode: "400-31", message: "invalid state", errors: [:])
        }
        func number(_ name: String) -> Int64? { filters?[name]?.int64Value }
        func text(_ name: String) -> String? { filters?[name]?.stringValue.flatMap { $0.isEmpty || $0 == "*" ? nil : $0 } }
        let rows = bulks.values.sorted { $0.id > $1.id }.filter { bulk in
            if let id = number("messages_outbox_id"), id != bulk.id { return false }
            if let line = text("number"), line != bulk.fromNumber { return false }
            if let state = number("state_id"), state != Int64(bulk.stateID) { return false }
            if let from = number("create_from_date") ?? number("send_from_date"), bulk.created < from { return false }
            if let to = number("create_to_date") ?? number("send_to_date"), bulk.created > to { return false }
            if let low = number("from_exit_count"), Int64(bulk.recipients.count) < low { return false }
            if let high = number("to_exit_count"), Int64(bulk.recipients.count) > high { return false }
            if let message = text("message"), !bulk.message.contains(message) { return false }
            return true
        }.map { JSONValue.object(outboxRow($0)) }
        let slice = Array(rows.dropFirst((page - 1) * limit).prefix(limit))
        return Self.success(
            .array(slice),
            extraMeta: Self.pagination(page: page, perPage: limit, count: slice.count, total: rows.count, path: "/api/report/new_list"))
    }

    /// `GET /api/report/bulk_stats`: recipients counted by operator (MCI `091x`/`099x`, Irancell the rest), script
    /// (`fa` when the text has a non-ASCII letter) and outcome. Non-zero counts are strings, as in the seed.
    private func bulkStats(_ query: [String: String]) -> FakeReply {
        guard let bulkID = query["bulk_id"].flatMap({ Int64($0) }) else {
            return Self.validation("bulk_id", "تکمیل گزینه bulk_id الزامی است")
        }
        var counts: [String: [String: [String: Int]]] = [:]
        for group in ["operators_blacklist", "operators_failed", "operators_pending", "operators_sent", "operators_delivered"] {
            counts[group] = ["irancell": ["en": 0, "fa": 0], "mci": ["en": 0, "fa": 0]]
        }
        if let bulk = bulks[bulkID] {
            let script = bulk.message.contains { !$0.isASCII } ? "fa" : "en"
            let group: String
            switch bulk.stateID == 6 ? bulk.messageStatus : "" {
            case "0": group = "operators_sent"
            case "2": group = "operators_delivered"
            case "3": group = "operators_failed"
            case "4": group = "operators_blacklist"
            default: group = "operators_pending"
            }
            for recipient in bulk.recipients {
                let national = recipient.hasPrefix("+98") ? "0" + recipient.dropFirst(3) : recipient
                let mci = national.hasPrefix("091") || national.hasPrefix("099")
                counts[group]?[mci ? "mci" : "irancell"]?[script, default: 0] += 1
            }
        }
        let data = JSONValue.object(counts.mapValues { operators in
            JSONValue.object(operators.mapValues { scripts in
                JSONValue.object(scripts.mapValues { (count: Int) -> JSONValue in count == 0 ? .integer(0) : .string(String(count)) })
            })
        })
        return Self.success(data)
    }

    private mutating func record(_ type: String, _ recipients: [String], _ message: String, _ from: String) -> Int64 {
        let id = nextID
        nextID += 1
        bulks[id] = Bulk(
            id: id, type: type, recipients: recipients, message: message, fromNumber: from, created: now(),
            states: bulkStates.isEmpty ? [6] : bulkStates, recipientStatuses: recipientStatuses.isEmpty ? ["2"] : recipientStatuses)
        return id
    }
}

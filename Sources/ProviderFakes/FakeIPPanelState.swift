import HoopoeJSON
import Foundation
import Providers

/// The fake IPPanel Edge account: key, bulks and their `state_id` / `message_status` lifecycle.
///
/// Implements providers.md §3: raw key in `Authorization` (else 401 `400-1`), the `data`/`meta` envelope,
/// validation errors as 422 `400-2` with `meta.errors`, one recipient for patterns, per-recipient statuses only
/// once a bulk is final.
struct FakeIPPanelState: Sendable {
    struct Bulk: Sendable {
        var id: Int64
        var type: String
        var recipients: [String]
        var message: String
        var fromNumber: String
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
            return Self.errorReply(httpStatus: 401, messageCode: "400-1", message: "اطلاعات وارد شده صحیح نمی باشد", errors: nil)
        }
        switch (request.endpoint, request.method) {
        case (.ippanelSend, "POST"): return send(JSONValue.parse(request.body))
        case (.ippanelRecipients, "GET"): return recipients(request.query)
        case (.ippanelByBulk, "POST"): return byBulk(Int64(request.path.split(separator: "/").last ?? "") ?? -1)
        case (.ippanelCredit, "GET"):
            return Self.success(["credit": .double(credit), "yesterday_credit": 0, "gift": 0, "gift_expires_at": nil])
        default:
            return Self.errorReply(httpStatus: 404, messageCode: "400-0", message: "not found", errors: nil)
        }
    }

    private mutating func send(_ body: JSONValue?) -> FakeReply {
        guard let body, body.isObject else { return Self.validation("body", "invalid json") }
        switch body["sending_type"]?.stringValue {
        case "pattern":
            guard let code = body["code"]?.stringValue, !code.isEmpty else { return Self.validation("code", "تکمیل گزینه کد الزامی است") }
            guard let recipients = body["recipients"]?.arrayValue?.compactMap(\.stringValue), recipients.count == 1 else {
                return Self.validation("recipients", "فقط یک گیرنده مجاز است")
            }
            guard body["params"]?.isObject == true else { return Self.validation("params", "تکمیل گزینه پارامترها الزامی است") }
            guard let from = body["from_number"]?.stringValue, !from.isEmpty else {
                return Self.validation("from_number", "تکمیل گزینه شماره فرستنده الزامی است")
            }
            return Self.success(["message_outbox_ids": [.integer(record("pattern", recipients, code, from))]])
        case "webservice", "normal":
            guard let message = body["message"]?.stringValue, !message.isEmpty else {
                return Self.validation("message", "تکمیل گزینه پیام الزامی است")
            }
            guard let recipients = body["params"]?["recipients"]?.arrayValue?.compactMap(\.stringValue), !recipients.isEmpty else {
                return Self.validation("params.recipients", "تکمیل گزینه گیرندگان الزامی است")
            }
            guard let from = body["from_number"]?.stringValue, !from.isEmpty else {
                return Self.validation("from_number", "تکمیل گزینه شماره فرستنده الزامی است")
            }
            return Self.success(["message_outbox_ids": [.integer(record("webservice", recipients, message, from))]])
        default:
            return Self.validation("sending_type", "نوع ارسال نامعتبر است")
        }
    }

    private mutating func recipients(_ query: [String: String]) -> FakeReply {
        guard let bulkID = query["bulk_id"].flatMap({ Int64($0) }) else {
            return Self.validation("bulk_id", "تکمیل گزینه شناسه الزامی است")
        }
        guard let bulk = bulks[bulkID] else { return Self.success([], extraMeta: ["total": 0]) }
        bulks[bulkID]?.advance(recipients: true)  // report the current step, then move on
        let rows: [JSONValue] =
            bulk.stateID == 6
            ? bulk.recipients.map {
                ["recipient": .string($0), "message": .string(bulk.message), "is_readable": true, "msg_parts": "1",
                 "message_status": .string(bulk.messageStatus)]
            } : []
        return Self.success(.array(rows), extraMeta: ["current_page": 1, "last_page": 1, "total": .integer(Int64(rows.count))])
    }

    private mutating func byBulk(_ id: Int64) -> FakeReply {
        guard let bulk = bulks[id] else {
            return Self.errorReply(httpStatus: 404, messageCode: "400-0", message: "پیام یافت نشد", errors: nil)
        }
        bulks[id]?.advance(recipients: false)  // report the current step, then move on
        return Self.success([
            "messages_outbox_id": .string(String(id)), "number": .string(bulk.fromNumber),
            "state": .string(bulk.stateID == 6 ? "finish" : "active"), "state_id": .integer(Int64(bulk.stateID)),
            "type": .string(bulk.type), "time_send": .string(String(Int64(Date().timeIntervalSince1970))),
            "rcpts_count": .integer(Int64(bulk.recipients.count)), "exit_count": .integer(Int64(bulk.recipients.count)),
            "status": .string(bulk.stateID == 6 ? "پایان یافته" : "در حال ارسال"), "valid": "approve",
            "message": .string(bulk.message), "cost": .double(Double(bulk.recipients.count) * 1.5),
        ])
    }

    private mutating func record(_ type: String, _ recipients: [String], _ message: String, _ from: String) -> Int64 {
        let id = nextID
        nextID += 1
        bulks[id] = Bulk(
            id: id, type: type, recipients: recipients, message: message, fromNumber: from,
            states: bulkStates.isEmpty ? [6] : bulkStates, recipientStatuses: recipientStatuses.isEmpty ? ["2"] : recipientStatuses)
        return id
    }
}

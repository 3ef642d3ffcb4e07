import Foundation
import HoopoeJSON
import ProviderFakes
import Providers
import Testing

/// The fake IPPanel answers as seed 003 documents: envelope, pagination, report fields, voice OTP, the reports.
@Suite("Fake IPPanel is as strict as seed 003")
struct FakeIPPanelStrictnessTests {
    func call(_ h: Harness, _ method: String, _ path: String, _ body: String? = nil, key: String? = nil) async throws -> RawAnswer {
        try await rawHTTP(
            h.http, method, h.fakes.ippanelBaseURL + path, body: body,
            headers: [("Authorization", key ?? h.options.ippanelAPIKey), ("Content-Type", "application/json")])
    }

    func sendPattern(_ h: Harness, to recipient: String = "+989121234567") async throws -> Int64 {
        try #require(try await h.ippanel().sendPattern(IPPanelPatternMessage(code: "p1", recipient: recipient, params: ["c": "1"])).bulkIDs.first)
    }

    @Test func unauthorizedCarriesEmptyMetaErrors() async throws {
        try await withHarness { h in
            let answer = try await call(h, "GET", "/api/payment/credit/mine", key: "wrong")
            #expect(answer.status == 401)
            #expect(answer.json?["meta"]?["errors"] == .object([:]))
            #expect(answer.json?["meta"]?["message_code"]?.stringValue == "400-1")
            #expect(answer.json?["meta"]?["message_parameters"] == .array([]))
            #expect(answer.json?["data"] == .null)
        }
    }

    /// Every pagination field of the seed's `meta`, and pages that really page.
    @Test func recipientsReportIsFullyPaginated() async throws {
        try await withHarness { h in
            await h.control.setIPPanelLifecycle(bulkStates: [6], recipientStatuses: ["2"])
            let numbers = (0..<3).map { "+98912000000\($0)" }
            let result = try await h.ippanel().sendWebservice(IPPanelWebserviceMessage(message: "سلام", recipients: numbers))
            let bulk = try #require(result.bulkIDs.first)
            let answer = try await call(h, "GET", "/api/report/recipients?page=2&per_page=2&bulk_id=\(bulk)")
            let meta = try #require(answer.json?["meta"])
            #expect(meta["current_page"]?.int64Value == 2)
            #expect(meta["from"]?.int64Value == 3)
            #expect(meta["to"]?.int64Value == 3)
            #expect(meta["last_page"]?.int64Value == 2)
            #expect(meta["per_page"]?.int64Value == 2)
            #expect(meta["total"]?.int64Value == 3)
            #expect(meta["path"]?.stringValue == "/api/report/recipients")
            #expect(answer.json?["data"]?.arrayValue?.compactMap { $0["recipient"]?.stringValue } == [numbers[2]])
        }
    }

    /// by_bulk has every field the seed shows, and its counts are strings there (`"rcpts_count": "1"`).
    @Test func byBulkHasTheSeedsFieldsAndStringCounts() async throws {
        try await withHarness { h in
            await h.control.setIPPanelLifecycle(bulkStates: [6], recipientStatuses: ["2"])
            let bulk = try await sendPattern(h)
            let data = try #require(try await call(h, "POST", "/api/report/by_bulk/\(bulk)", #"{"page":1,"limit":10}"#).json?["data"])
            let fields: Set<String> = [
                "username", "number_color", "number", "number_id", "messages_outbox_id", "state", "type", "time_send", "time",
                "rcpts_count", "exit_count", "status", "return", "partner_id", "in_delivery_line", "valid", "message", "part",
                "cost", "summary", "user_ip", "user_id", "reject_comment", "files_path", "parent_id", "state_id",
            ]
            guard case .object(let object) = data else { Issue.record("data is not an object"); return }
            #expect(Set(object.keys) == fields)
            #expect(data["rcpts_count"] == .string("1"))
            #expect(data["exit_count"] == .string("1"))
            #expect(data["messages_outbox_id"] == .string(String(bulk)))
            #expect(data["state_id"] == .integer(6))
            // …and the client still reads them as numbers.
            let read = try await h.ippanel().outboxReport(bulkID: bulk)
            #expect(read.recipientCount == 1 && read.exitCount == 1)
        }
    }

    @Test func voiceOTPIsAccepted() async throws {
        try await withHarness { h in
            let answer = try await call(h, "POST", "/api/send", #"{"sending_type":"votp","message":"45852","params":{"recipients":["+989120000000"]}}"#)
            #expect(answer.status == 200)
            let bulk = try #require(answer.json?["data"]?["message_outbox_ids"]?.arrayValue?.first?.int64Value)
            let row = try await h.ippanel().outboxReport(bulkID: bulk)
            #expect(row.type == "sendvoice")
            #expect(row.number == "+98votp")
            let empty = try await call(h, "POST", "/api/send", #"{"sending_type":"votp","message":"","params":{"recipients":["+989120000000"]}}"#)
            #expect(empty.status == 422)
            #expect(empty.json?["meta"]?["errors"]?["message"]?.arrayValue?.first?.stringValue == "تکمیل گزینه پیام الزامی است")
        }
    }

    /// Numbers in E.164 with `+` only (seed 003, docs/providers.md §3.3): the national form, the legacy SDK's form
    /// without `+` and a line without `+` are refused with 422 `400-2`, naming the field.
    @Test func numbersOutsideE164AreRefused() async throws {
        try await withHarness { h in
            let cases: [(body: String, field: String)] = [
                (#"{"sending_type":"pattern","code":"p1","from_number":"+983000505","recipients":["09120000000"],"params":{"code":"1"}}"#, "recipients"),
                (#"{"sending_type":"pattern","code":"p1","from_number":"+983000505","recipients":["989120000000"],"params":{"code":"1"}}"#, "recipients"),
                (#"{"sending_type":"pattern","code":"p1","from_number":"3000505","recipients":["+989120000000"],"params":{"code":"1"}}"#, "from_number"),
                (#"{"sending_type":"webservice","message":"m","from_number":"+983000505","params":{"recipients":["+989120000000","0935"]}}"#, "params.recipients"),
                (#"{"sending_type":"votp","message":"45852","params":{"recipients":["+0989120000000"]}}"#, "params.recipients"),
            ]
            for (body, field) in cases {
                let answer = try await call(h, "POST", "/api/send", body)
                #expect(answer.status == 422, "\(body)")
                #expect(answer.json?["meta"]?["message_code"]?.stringValue == "400-2")
                #expect(answer.json?["meta"]?["errors"]?[field] != nil, "\(body): \(answer.json ?? .null)")
            }
            #expect(await h.control.requests(to: .ippanelSend).count == cases.count)
            let accepted = try await call(h, "POST", "/api/send",
                #"{"sending_type":"pattern","code":"p1","from_number":"+983000505","recipients":["+989120000000"],"params":{"code":"1"}}"#)
            #expect(accepted.status == 200)
        }
    }

    @Test func newListFiltersAndPaginates() async throws {
        try await withHarness { h in
            let first = try await sendPattern(h)
            let second = try await sendPattern(h, to: "+989351234567")
            let all = try await call(h, "POST", "/api/report/new_list", #"{"page":1,"limit":10}"#)
            #expect(all.status == 200)
            #expect(all.json?["data"]?.arrayValue?.compactMap { $0["messages_outbox_id"]?.stringValue } == [String(second), String(first)])
            #expect(all.json?["meta"]?["path"]?.stringValue == "/api/report/new_list")
            #expect(all.json?["meta"]?["total"]?.int64Value == 2)
            let one = try await call(h, "POST", "/api/report/new_list", #"{"page":1,"limit":10,"filters":{"messages_outbox_id":"\#(first)"}}"#)
            #expect(one.json?["data"]?.arrayValue?.count == 1)
            let paged = try await call(h, "POST", "/api/report/new_list", #"{"page":2,"limit":1}"#)
            #expect(paged.json?["data"]?.arrayValue?.first?["messages_outbox_id"]?.stringValue == String(first))
            #expect(paged.json?["meta"]?["last_page"]?.int64Value == 2)
            let bad = try await call(h, "POST", "/api/report/new_list", #"{"filters":{"state_id":"12"}}"#)
            #expect(bad.status == 422)
            #expect(bad.json?["meta"]?["message_code"]?.stringValue == "400-31")
        }
    }

    @Test func bulkStatsCountsByOperator() async throws {
        try await withHarness { h in
            await h.control.setIPPanelLifecycle(bulkStates: [6], recipientStatuses: ["2"])
            let bulk = try await sendPattern(h)
            let answer = try await call(h, "GET", "/api/report/bulk_stats?bulk_id=\(bulk)")
            #expect(answer.status == 200)
            #expect(answer.json?["data"]?["operators_delivered"]?["mci"]?["en"] == .string("1"))
            #expect(answer.json?["data"]?["operators_failed"]?["irancell"]?["fa"] == .integer(0))
            let missing = try await call(h, "GET", "/api/report/bulk_stats")
            #expect(missing.status == 422)
            #expect(missing.json?["meta"]?["errors"]?["bulk_id"] != nil)
        }
    }
}


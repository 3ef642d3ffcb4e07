import HoopoeJSON
import Foundation
import ProviderFakes
import Providers
import Testing

@Suite("IPPanel request encoding, byte for byte")
struct IPPanelRequestEncodingTests {
    static func headers(contentLength: Int?) -> [FakeHeader] {
        var headers = [
            FakeHeader("Authorization", "fake-ippanel-key"),
            FakeHeader("Content-Type", "application/json"),
            FakeHeader("Accept", "application/json"),
        ]
        if let contentLength { headers.append(FakeHeader("Content-Length", String(contentLength))) }
        return headers
    }

    @Test func patternSend() async throws {
        try await withHarness { h in
            let result = try await h.ippanel().sendPattern(
                IPPanelPatternMessage(code: "p1", recipient: "+989121234567", params: ["name": "علی", "code": "کد۱۲۳۴"]))
            #expect(result.bulkIDs == [1_123_544_244])
            let request = try #require(await h.control.requests().first)
            let body =
                #"{"code":"p1","from_number":"+983000505","params":{"code":"کد۱۲۳۴","name":"علی"},"recipients":["+989121234567"],"sending_type":"pattern"}"#
            #expect(request.method == "POST")
            #expect(request.target == "/ippanel/v1/api/send")
            #expect(request.headers == Self.headers(contentLength: body.utf8.count))
            #expect(request.bodyText == body)
        }
    }

    @Test func webserviceSendWithUTCSendTime() async throws {
        try await withHarness { h in
            // 2025-03-12 21:20:02 UTC
            let when = Date(timeIntervalSince1970: 1_741_814_402)
            _ = try await h.ippanel().sendWebservice(
                IPPanelWebserviceMessage(message: "متن پیام", recipients: ["+989120000000", "+989350000000"], sendTime: when))
            let request = try #require(await h.control.requests().first)
            let body =
                #"{"from_number":"+983000505","message":"متن پیام","params":{"recipients":["+989120000000","+989350000000"]},"send_time":"2025-03-12 21:20:02","sending_type":"webservice"}"#
            #expect(request.target == "/ippanel/v1/api/send")
            #expect(request.headers == Self.headers(contentLength: body.utf8.count))
            #expect(request.bodyText == body)
        }
    }

    @Test func reports() async throws {
        try await withHarness { h in
            let client = h.ippanel()
            _ = try await client.recipientsReport(bulkID: 1_123_544_244, page: 2, perPage: 50)
            await h.control.enqueue(
                .reply(.json(200, ["data": ["messages_outbox_id": "1", "state_id": 6], "meta": ["status": true, "message_code": "200-1"]])),
                for: .ippanelByBulk)
            _ = try await client.outboxReport(bulkID: 1_123_544_244)
            let requests = await h.control.requests()
            #expect(requests.count == 2)
            #expect(requests[0].method == "GET")
            #expect(requests[0].target == "/ippanel/v1/api/report/recipients?page=2&per_page=50&bulk_id=1123544244")
            #expect(requests[0].headers == Self.headers(contentLength: nil))
            #expect(requests[0].body.isEmpty)
            #expect(requests[1].method == "POST")
            #expect(requests[1].target == "/ippanel/v1/api/report/by_bulk/1123544244")
            #expect(requests[1].headers == Self.headers(contentLength: #"{"limit":10,"page":1}"#.utf8.count))
            #expect(requests[1].bodyText == #"{"limit":10,"page":1}"#)
        }
    }

    @Test func nonE164RecipientIsRejectedLocally() async throws {
        try await withHarness { h in
            let error = try #require(
                await providerError {
                    try await h.ippanel().sendPattern(IPPanelPatternMessage(code: "p1", recipient: "09121234567", params: [:]))
                })
            #expect(error.kind == .invalidRequest)
            #expect(error.code == "400-2")
            #expect(await h.control.requests().isEmpty)
        }
    }
}

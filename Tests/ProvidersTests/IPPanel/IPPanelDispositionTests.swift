import ProviderFakes
import Providers
import Testing

/// Every row of docs/providers.md §3.2 ("message_code patterns seen"), answered by the fake over real HTTP.
@Suite("IPPanel message codes → disposition (docs/providers.md §3.2)")
struct IPPanelDispositionTests {
    struct Row: Sendable, CustomTestStringConvertible {
        var name: String
        var fault: FakeFault
        var code: String
        var expected: Disposition
        var testDescription: String { name }
    }

    static let rows: [Row] = [
        Row(name: "401 400-1 bad key", fault: .ippanel(httpStatus: 401, messageCode: "400-1", message: "اطلاعات وارد شده صحیح نمی باشد"),
            code: "400-1", expected: .alert(requeueAfterFix: true)),
        Row(name: "422 400-2 validation", fault: .ippanel(httpStatus: 422, messageCode: "400-2", message: "invalid",
            errors: ["message": ["تکمیل گزینه پیام الزامی است"]]), code: "400-2", expected: .permanent),
        Row(name: "422 400-31 invalid state", fault: .ippanel(httpStatus: 422, messageCode: "400-31", message: "invalid state"),
            code: "400-31", expected: .permanent),
        Row(name: "503 no envelope", fault: .reply(.text(503, "Service Unavailable")), code: "503", expected: .retry(after: nil)),
        Row(name: "500 with envelope", fault: .ippanel(httpStatus: 500, messageCode: "500-1"), code: "500-1", expected: .retry(after: nil)),
        Row(name: "429", fault: .reply(.text(429, "Too Many Requests")), code: "429", expected: .retry(after: nil)),
        Row(name: "unparseable 200", fault: .reply(.text(200, "<html>maintenance</html>")), code: "200", expected: .retry(after: nil)),
        Row(name: "other 4xx 400-N", fault: .ippanel(httpStatus: 403, messageCode: "400-7", message: "forbidden"),
            code: "400-7", expected: .permanent),
    ]

    @Test(arguments: rows)
    func codeMapsToDisposition(_ row: Row) async throws {
        try await withHarness { h in
            await h.control.enqueue(row.fault, for: .ippanelRecipients)
            let error = try #require(await providerError { try await h.ippanel().recipientsReport(bulkID: 1) })
            #expect(error.provider == .ippanel)
            #expect(error.code == row.code)
            #expect(error.disposition == row.expected)
        }
    }

    @Test func successIsMetaStatusTrue() async throws {
        try await withHarness { h in
            let result = try await h.ippanel().sendPattern(
                IPPanelPatternMessage(code: "p1", recipient: "+989121234567", params: ["code": "1"]))
            #expect(result.bulkIDs.count == 1)
        }
    }

    @Test func fakeOwnChecksProduceDocumentedCodes() async throws {
        try await withHarness { h in
            let wrongKey = try #require(
                await providerError {
                    try await h.ippanel(apiKey: "revoked").sendPattern(
                        IPPanelPatternMessage(code: "p1", recipient: "+989121234567", params: ["code": "1"]))
                })
            #expect(wrongKey.httpStatus == 401)
            #expect(wrongKey.code == "400-1")
            #expect(wrongKey.disposition == .alert(requeueAfterFix: true))

            let missingMessage = try #require(
                await providerError {
                    try await h.ippanel().sendWebservice(IPPanelWebserviceMessage(message: "", recipients: ["+989121234567"]))
                })
            // Rejected locally with the code IPPanel would give.
            #expect(missingMessage.code == "400-2")
            #expect(missingMessage.disposition == .permanent)
        }
    }

    @Test func validationErrorsKeepFieldMessages() async throws {
        try await withHarness { h in
            await h.control.enqueue(
                .ippanel(httpStatus: 422, messageCode: "400-2", message: "خطا", errors: ["message": ["تکمیل گزینه پیام الزامی است"]]),
                for: .ippanelSend)
            let error = try #require(
                await providerError {
                    try await h.ippanel().sendWebservice(IPPanelWebserviceMessage(message: "x", recipients: ["+989121234567"]))
                })
            #expect(error.message == "خطا — message: تکمیل گزینه پیام الزامی است")
            #expect(!error.outcomeUnknown)
        }
    }
}

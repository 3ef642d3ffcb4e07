import AsyncHTTPClient
import Foundation
import HoopoeJSON
import Logging
import ProviderFakes
import Providers
import Testing

/// The control API over HTTP: faults, recorded requests and reset, as a black-box test in any language uses them.
@Suite("Fake providers' HTTP control API")
struct FakeControlAPITests {
    func withControlledFakes(_ body: (RunningFakeProviders, HTTPClient) async throws -> Void) async throws {
        let fakes = try await FakeProviders.start(controlAPI: true, logger: Logger(label: "fakes") { _ in SwiftLogNoOpLogHandler() })
        let http = ProviderHTTPClient.make(connectTimeout: .seconds(2))
        do { try await body(fakes, http) } catch {
            try? await http.shutdown()
            await fakes.stop()
            throw error
        }
        try await http.shutdown()
        await fakes.stop()
    }

    func control(_ http: HTTPClient, _ fakes: RunningFakeProviders, _ method: String, _ path: String, _ body: String? = nil) async throws -> RawAnswer {
        try await rawHTTP(http, method, fakes.controlURL + path, body: body, headers: [("Content-Type", "application/json")])
    }

    func kavenegar(_ fakes: RunningFakeProviders, _ http: HTTPClient) -> KavenegarClient {
        KavenegarClient(configuration: .init(baseURL: fakes.kavenegarBaseURL, apiKey: "fake-kavenegar-key", sender: nil, timeouts: .init(connect: .seconds(2), total: .seconds(2))), httpClient: http)
    }

    static let lookup = KavenegarLookup(receptor: "09121234567", template: "verify", token: "1234")

    /// "Succeed after N failures": a status fault queued twice fails two calls with the provider's own error, the
    /// third goes through.
    @Test func statusFaultTimesNThenSuccess() async throws {
        try await withControlledFakes { fakes, http in
            let queued = try await control(http, fakes, "POST", "/faults", #"{"endpoint":"kavenegar verify/lookup","fault":{"kind":"status","status":409},"times":2}"#)
            #expect(queued.status == 200)
            #expect(try await control(http, fakes, "GET", "/faults").json?["pending"]?["kavenegar verify/lookup"]?.int64Value == 2)
            let client = kavenegar(fakes, http)
            for _ in 0..<2 {
                let error = try #require(await providerError { try await client.lookup(Self.lookup) })
                #expect(error.code == "409")
            }
            #expect(try await client.lookup(Self.lookup).count == 1)
        }
    }

    /// A delay longer than the client's limit is a timeout; "drop" does the work and closes the connection.
    @Test func delayAndDrop() async throws {
        try await withControlledFakes { fakes, http in
            _ = try await control(http, fakes, "POST", "/faults", #"{"endpoint":"kavenegar verify/lookup","fault":{"kind":"delay","seconds":3}}"#)
            let slow = try #require(await providerError { try await kavenegar(fakes, http).lookup(Self.lookup) })
            #expect(slow.kind == .timeout)
            _ = try await control(http, fakes, "POST", "/faults", #"{"endpoint":"ippanel send","fault":{"kind":"drop"}}"#)
            let ippanel = IPPanelClient(
                configuration: .init(baseURL: fakes.ippanelBaseURL, apiKey: "fake-ippanel-key", fromNumber: "+983000505", timeouts: .sms),
                httpClient: http)
            let dropped = try #require(await providerError {
                try await ippanel.sendPattern(IPPanelPatternMessage(code: "p", recipient: "+989121234567", params: ["c": "1"]))
            })
            #expect(dropped.outcomeUnknown)
            #expect(await fakes.control.ippanelBulkCount() == 1)  // it went out; the answer did not come back
        }
    }

    @Test func recordedRequestsFilterAndReset() async throws {
        try await withControlledFakes { fakes, http in
            _ = try await kavenegar(fakes, http).lookup(Self.lookup)
            _ = try await kavenegar(fakes, http).accountInfo()
            let lookups = try await control(http, fakes, "GET", "/requests?endpoint=kavenegar%20verify%2Flookup")
            let rows = try #require(lookups.json?["requests"]?.arrayValue)
            #expect(rows.count == 1)
            #expect(rows.first?["body"]?.stringValue == "receptor=09121234567&template=verify&token=1234")
            #expect(rows.first?["method"]?.stringValue == "POST")
            _ = try await control(http, fakes, "POST", "/kavenegar", #"{"links_restricted":true,"credit":50}"#)
            #expect(await fakes.control.kavenegarCredit() == 50)
            try await expectStatus(control(http, fakes, "POST", "/reset"), 200)
            #expect(try await control(http, fakes, "GET", "/requests").json?["requests"]?.arrayValue?.isEmpty == true)
            #expect(await fakes.control.kavenegarCredit() == 1_500_000)
            #expect(await fakes.control.kavenegarMessageCount() == 0)
        }
    }

    /// `POST /_control/brevo` programs the transactional email window and templates and a child's balance, and
    /// reads back what the account holds; bad values are refused with a reason.
    @Test func brevoEmailAndChildControls() async throws {
        try await withControlledFakes { fakes, http in
            let before = try await control(http, fakes, "POST", "/brevo", "{}")
            #expect(before.json?["emails"] == 0 && before.json?["children"]?.arrayValue?.isEmpty == true)
            _ = try await control(http, fakes, "POST", "/brevo",
                                  #"{"email_rate_limit":{"limit":5,"remaining":0,"reset":30},"email_templates":[3,4],"creation_polls":1,"reseller_credits":{"sms":10,"email":20}}"#)
            #expect(await fakes.control.brevoEmailTemplates() == 3...4)
            func brevo(_ path: String, _ body: String) async throws -> RawAnswer {
                try await rawHTTP(http, "POST", fakes.brevoBaseURL + path, body: body,
                                  headers: [("Content-Type", "application/json"), ("api-key", "xkeysib-fake-reseller-key")])
            }
            let email = #"{"to":[{"email":"sara@example.com"}],"templateId":3,"params":{"n":"1"}}"#
            let limited = try await brevo("/smtp/email", email)
            #expect(limited.status == 429 && limited.json?["code"] == "too_many_requests")
            _ = try await control(http, fakes, "POST", "/brevo", #"{"email_rate_limit":{"limit":5,"remaining":5,"reset":30}}"#)
            try await expectStatus(brevo("/smtp/email", email), 201)
            let inactive = try await brevo("/smtp/email", email.replacingOccurrences(of: ":3,", with: ":9,"))
            #expect(inactive.status == 400 && inactive.json?["code"] == "invalid_parameter")
            let created = try await brevo("/reseller/children", #"{"email":"c@example.com","firstName":"C","lastName":"D","companyName":"E","password":"pw-1234567"}"#)
            let id = try #require(created.json?["id"]?.int64Value)
            let after = try await control(http, fakes, "POST", "/brevo", "{\"child_credits\":{\"id\":\(id),\"sms\":7}}")
            #expect(after.json?["emails"] == 1)
            #expect(after.json?["children"]?.arrayValue?.first?["sms_credits"] == 7)
            #expect(await fakes.control.brevoChildCredits(id: id)?.sms == 7)
            try await expectStatus(control(http, fakes, "POST", "/brevo", #"{"child_credits":{"id":1,"sms":7}}"#), 404)
            try await expectStatus(control(http, fakes, "POST", "/brevo", #"{"email_templates":[5,1]}"#), 400)
            try await expectStatus(control(http, fakes, "POST", "/brevo", #"{"rate_limit":{"limit":5}}"#), 400)
        }
    }

    @Test func badControlCallsAreRefusedWithAReason() async throws {
        try await withControlledFakes { fakes, http in
            let unknown = try await control(http, fakes, "POST", "/faults", #"{"endpoint":"nope","fault":{"kind":"drop"}}"#)
            #expect(unknown.status == 400)
            let badKind = try await control(http, fakes, "POST", "/faults", #"{"endpoint":"ippanel send","fault":{"kind":"explode"}}"#)
            #expect(badKind.status == 400)
            #expect(badKind.json?["error"]?.stringValue?.contains("fault.kind") == true)
            let badSeconds = try await control(http, fakes, "POST", "/faults", #"{"endpoint":"ippanel send","fault":{"kind":"delay","seconds":-1}}"#)
            #expect(badSeconds.status == 400)
            try await expectStatus(control(http, fakes, "POST", "/faults", #"{"endpoint":"ippanel send","fault":{"kind":"drop"},"times":99999999999999999}"#), 400)
        }
    }

    /// Without `controlAPI` the control paths are not served: a test server cannot be reprogrammed by accident.
    @Test func controlIsOffByDefault() async throws {
        try await withHarness { h in
            let answer = try await rawHTTP(h.http, "POST", h.fakes.controlURL + "/reset")
            #expect(answer.status == 404)
        }
    }
}

/// Stopping the fakes is part of normal operation and logs no error (it logged one per stop when the server task was
/// cancelled: 77 `error` lines in one `make test`).
@Suite("Fake providers stop cleanly")
struct FakeProvidersStopTests {
    @Test func stopLogsNoError() async throws {
        let logs = LogStore()
        let fakes = try await FakeProviders.start(logger: Logger(label: "fakes") { _ in CapturingLogHandler(store: logs) })
        let http = ProviderHTTPClient.make(connectTimeout: .seconds(2))
        let client = KavenegarClient(
            configuration: .init(baseURL: fakes.kavenegarBaseURL, apiKey: "fake-kavenegar-key", sender: nil, timeouts: .sms), httpClient: http)
        _ = try await client.accountInfo()  // leaves a keep-alive connection open in the pool
        await fakes.stop()
        try await http.shutdown()
        let errors = logs.lines.filter { $0.hasPrefix("error") || $0.hasPrefix("critical") }
        #expect(errors.isEmpty, "\(logs.text)")
    }
}

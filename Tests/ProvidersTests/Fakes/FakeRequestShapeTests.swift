import AsyncHTTPClient
import Foundation
import HoopoeJSON
import Logging
import ProviderFakes
import Providers
import Testing

/// What the fakes refuse beyond the codes of each provider's table: a Kavenegar tag with other characters (`607`),
/// an IPPanel or Brevo JSON body not sent as JSON, an IPPanel pattern value that is not text, a Brevo child whose
/// email is no address or whose language is not one of Brevo's; and the faults with a body that trickles or has no
/// end. Requests as the official SDKs send them still pass (Tests/blackbox/sdk_compat_test.py sends them for real).
@Suite("Fake providers refuse malformed fields and bodies")
struct FakeRequestShapeTests {
    static let json = [("Content-Type", "application/json")]

    func kavenegar(_ h: Harness, _ method: String, _ body: String) async throws -> RawAnswer {
        try await rawHTTP(
            h.http, "POST", "\(h.fakes.kavenegarBaseURL)/\(h.options.kavenegarAPIKey)/\(method).json", body: body,
            headers: [("Content-Type", "application/x-www-form-urlencoded")])
    }

    func ippanel(_ h: Harness, _ body: String, contentType: String?) async throws -> RawAnswer {
        var headers = [("Authorization", h.options.ippanelAPIKey)]
        if let contentType { headers.append(("Content-Type", contentType)) }
        return try await rawHTTP(h.http, "POST", h.fakes.ippanelBaseURL + "/api/send", body: body, headers: headers)
    }

    func brevo(_ h: Harness, _ path: String, _ body: String, contentType: String? = "application/json") async throws -> RawAnswer {
        var headers = [("api-key", h.options.brevoAPIKey)]
        if let contentType { headers.append(("Content-Type", contentType)) }
        return try await rawHTTP(h.http, "POST", h.fakes.brevoBaseURL + path, body: body, headers: headers)
    }

    // MARK: Kavenegar

    @Test(arguments: ["no*such", "&bad", "two words", "", "تگ", String(repeating: "a", count: 201)])
    func aTagWithOtherCharactersIs607(_ tag: String) async throws {
        try await withHarness { h in
            let tagField = "tag=\(FormEncoding.percentEncode(tag))"
            let lookup = try await kavenegar(h, "verify/lookup", "receptor=09121234567&template=verify&token=1&\(tagField)")
            expectStatus(lookup, 607)
            #expect(lookup.json?["return"]?["message"]?.stringValue == "نام تگ انتخابی اشتباه است.")
            let send = try await kavenegar(h, "sms/send", "receptor=09121234567&message=hi&\(tagField)")
            expectStatus(send, 607)
            #expect(await h.control.kavenegarMessageCount() == 0)
        }
    }

    @Test(arguments: ["otp", "Login-2", "gift_wheel", "a\u{0640}b", String(repeating: "a", count: 200)])
    func aWellFormedTagPasses(_ tag: String) async throws {
        try await withHarness { h in
            let tagField = "tag=\(FormEncoding.percentEncode(tag))"
            expectStatus(try await kavenegar(h, "verify/lookup", "receptor=09121234567&template=verify&token=1&\(tagField)"), 200)
            expectStatus(try await kavenegar(h, "sms/send", "receptor=09121234567&message=hi&\(tagField)"), 200)
        }
    }

    // MARK: IPPanel

    static let pattern = #"{"sending_type":"pattern","from_number":"+983000505","code":"p1","recipients":["+989121234567"],"params":{"name":"Sara"}}"#

    /// The seed's header on every call: a body sent as anything else is not read, so the send lacks its fields.
    @Test(arguments: [nil, "text/plain", "application/x-www-form-urlencoded"])
    func anIPPanelSendNotSentAsJSONIs422(_ contentType: String?) async throws {
        try await withHarness { h in
            let answer = try await ippanel(h, Self.pattern, contentType: contentType)
            expectStatus(answer, 422)
            #expect(answer.json?["meta"]?["message_code"]?.stringValue == "400-2")
            #expect(answer.json?["meta"]?["errors"]?["sending_type"] != nil, "\(answer.text)")
            #expect(await h.control.ippanelBulkCount() == 0)
        }
    }

    @Test(arguments: ["application/json", "application/json; charset=utf-8", "Application/JSON"])
    func anIPPanelSendAsJSONPasses(_ contentType: String) async throws {
        try await withHarness { h in
            expectStatus(try await ippanel(h, Self.pattern, contentType: contentType), 200)
        }
    }

    /// `params` is an object of text values, as the seed shows it (`"params": {"code": "متن جایگذاری"}`).
    @Test(arguments: [#""params":5"#, #""params":{"name":5}"#, #""params":{"name":{"a":"b"}}"#, #""params":["Sara"]"#])
    func anIPPanelPatternValueThatIsNotTextIs422(_ params: String) async throws {
        try await withHarness { h in
            let body = #"{"sending_type":"pattern","from_number":"+983000505","code":"p1","recipients":["+989121234567"],\#(params)}"#
            let answer = try await ippanel(h, body, contentType: "application/json")
            expectStatus(answer, 422)
            guard case .object(let errors)? = answer.json?["meta"]?["errors"] else {
                Issue.record("no meta.errors: \(answer.text)")
                return
            }
            #expect(errors.keys.contains { $0.hasPrefix("params") }, "\(answer.text)")
            #expect(await h.control.ippanelBulkCount() == 0)
        }
    }

    // MARK: Brevo

    static let child = #"{"email":"sara@example.com","firstName":"Sara","lastName":"A","companyName":"Kamva","password":"pw-12345678"}"#

    @Test(arguments: ["not-an-email", "sara@localhost", "sara @example.com", "@example.com"])
    func aBrevoChildWhoseEmailIsNoAddressIs400(_ email: String) async throws {
        try await withHarness { h in
            let body = Self.child.replacingOccurrences(of: "sara@example.com", with: email)
            let answer = try await brevo(h, "/reseller/children", body)
            expectStatus(answer, 400)
            #expect(answer.json?["code"]?.stringValue == "invalid_parameter")
            #expect(await h.control.brevoChildEmails().isEmpty)
        }
    }

    @Test func aBrevoChildLanguageIsOneOfBrevos() async throws {
        try await withHarness { h in
            let other = try await brevo(h, "/reseller/children", Self.child.replacingOccurrences(of: "}", with: #","language":"xx"}"#))
            expectStatus(other, 400)
            #expect(other.json?["code"]?.stringValue == "invalid_parameter")
            let number = try await brevo(h, "/reseller/children", Self.child.replacingOccurrences(of: "}", with: #","language":1}"#))
            expectStatus(number, 400)
            expectStatus(try await brevo(h, "/reseller/children", Self.child.replacingOccurrences(of: "}", with: #","language":"de"}"#)), 201)
            #expect(await h.control.brevoChildEmails() == ["sara@example.com"])
        }
    }

    /// §4.1: `Content-Type: application/json` for JSON bodies, on the reseller routes and the email route alike.
    @Test(arguments: [nil, "text/plain"])
    func aBrevoBodyNotSentAsJSONIs400(_ contentType: String?) async throws {
        try await withHarness { h in
            let create = try await brevo(h, "/reseller/children", Self.child, contentType: contentType)
            expectStatus(create, 400)
            #expect(create.json?["code"]?.stringValue == "bad_request")
            #expect(await h.control.brevoChildEmails().isEmpty)
            let email = #"{"to":[{"email":"sara@example.com"}],"templateId":7,"params":{"name":"Sara"}}"#
            let sent = try await brevo(h, "/smtp/email", email, contentType: contentType)
            expectStatus(sent, 400)
            #expect(sent.json?["code"]?.stringValue == "bad_request")
            expectStatus(try await brevo(h, "/smtp/email", email, contentType: "application/json; charset=utf-8"), 201)
        }
    }

    // MARK: Faults

    /// `slow_body` and `oversized_body` over the control API, as a black-box test queues them.
    @Test func bodyFaultsAreQueuedOverTheControlAPI() async throws {
        let fakes = try await FakeProviders.start(controlAPI: true, logger: Logger(label: "fakes") { _ in SwiftLogNoOpLogHandler() })
        let http = ProviderHTTPClient.make(connectTimeout: .seconds(2))
        func control(_ body: String) async throws -> RawAnswer {
            try await rawHTTP(http, "POST", fakes.controlURL + "/faults", body: body, headers: Self.json)
        }
        try await tearingDown(fakes, http) {
            expectStatus(try await control(#"{"endpoint":"kavenegar account/info","fault":{"kind":"oversized_body","bytes":300000}}"#), 200)
            let padded = try await rawHTTP(http, "GET", "\(fakes.kavenegarBaseURL)/fake-kavenegar-key/account/info.json")
            #expect(padded.body.count == 300_000)
            #expect(padded.json?["entries"]?["type"]?.stringValue == "master", "the padding is JSON whitespace")

            expectStatus(try await control(#"{"endpoint":"kavenegar account/info","fault":{"kind":"slow_body","seconds":0.01}}"#), 200)
            let started = ContinuousClock.now
            let slow = try await rawHTTP(http, "GET", "\(fakes.kavenegarBaseURL)/fake-kavenegar-key/account/info.json")
            #expect(ContinuousClock.now - started > .milliseconds(Int64(slow.body.count - 1) * 10))
            #expect(slow.json?["entries"]?["type"]?.stringValue == "master", "the whole answer, slowly")

            for bad in [
                #"{"kind":"oversized_body","bytes":0}"#, #"{"kind":"oversized_body","bytes":100000000}"#,
                #"{"kind":"slow_body"}"#, #"{"kind":"slow_body","seconds":-1}"#,
            ] {
                expectStatus(try await control(#"{"endpoint":"kavenegar account/info","fault":\#(bad)}"#), 400)
            }
            let unknown = try await control(#"{"endpoint":"kavenegar account/info","fault":{"kind":"trickle"}}"#)
            #expect(unknown.json?["error"]?.stringValue?.contains("slow_body or oversized_body") == true)
        }
    }
}

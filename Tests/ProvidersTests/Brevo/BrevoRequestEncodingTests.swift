import ProviderFakes
import Providers
import Testing

@Suite("Brevo request encoding, byte for byte")
struct BrevoRequestEncodingTests {
    static func headers(jsonBodyLength: Int?) -> [FakeHeader] {
        var headers = [FakeHeader("api-key", "xkeysib-fake-reseller-key"), FakeHeader("Accept", "application/json")]
        if let jsonBodyLength {
            headers += [FakeHeader("Content-Type", "application/json"), FakeHeader("Content-Length", String(jsonBodyLength))]
        }
        return headers
    }

    @Test func everyResellerEndpoint() async throws {
        try await withHarness { h in
            let brevo = h.brevo()
            let created = try await brevo.createChild(
                BrevoNewChild(
                    email: "josh.cruise@example.com", firstName: "Josh", lastName: "Cruise", companyName: "Your Company",
                    password: "Pa55w0rd65", language: .en))
            #expect(created.value == BrevoCreatedChild(authKey: "xkeysib-child-1234567", id: 1_234_567, adopted: false))
            let id = try #require(created.value.identifier)
            #expect(try await brevo.creationStatus(of: id).value)
            #expect(try await brevo.child(id).value.email == "josh.cruise@example.com")
            #expect(try await brevo.listChildren(limit: 20, offset: 0).value.count == 1)
            let credits = try await brevo.addCredits(to: id, sms: 450, email: 1200)
            #expect(credits.value == BrevoRemainingCredits(childSMS: 450, childEmail: 1200, resellerSMS: 12_450, resellerEmail: 1_998_800))
            try await brevo.associateIP("123.65.8.22", with: id).value

            let requests = await h.control.requests()
            let createBody =
                #"{"companyName":"Your Company","email":"josh.cruise@example.com","firstName":"Josh","language":"en","lastName":"Cruise","password":"Pa55w0rd65"}"#
            let expected: [(String, String, [FakeHeader], String)] = [
                ("POST", "/brevo/v3/reseller/children", Self.headers(jsonBodyLength: createBody.utf8.count), createBody),
                ("GET", "/brevo/v3/reseller/children/1234567/accountCreationStatus", Self.headers(jsonBodyLength: nil), ""),
                ("GET", "/brevo/v3/reseller/children/1234567", Self.headers(jsonBodyLength: nil), ""),
                ("GET", "/brevo/v3/reseller/children?limit=20&offset=0", Self.headers(jsonBodyLength: nil), ""),
                ("POST", "/brevo/v3/reseller/children/1234567/credits/add", Self.headers(jsonBodyLength: 24), #"{"email":1200,"sms":450}"#),  // 24 bytes
                ("POST", "/brevo/v3/reseller/children/1234567/ips/associate", Self.headers(jsonBodyLength: 20), #"{"ip":"123.65.8.22"}"#),  // 20 bytes
            ]
            #expect(requests.count == expected.count)
            for (request, (method, target, headers, body)) in zip(requests, expected) {
                #expect(request.method == method)
                #expect(request.target == target)
                #expect(request.headers == headers)
                #expect(request.bodyText == body)
            }
        }
    }

    @Test func rateLimitHeadersAreSurfaced() async throws {
        try await withHarness { h in
            await h.control.setBrevoRateLimit(limit: 100, remaining: 2, reset: 1_800)
            let brevo = h.brevo()
            let first = try await brevo.listChildren()
            #expect(first.rateLimit == ProviderRateLimit(limit: 100, remaining: 1, reset: .seconds(1_800)))
            let second = try await brevo.listChildren()
            #expect(second.rateLimit?.remaining == 0)
            let limited = try #require(await providerError { try await brevo.listChildren() })
            #expect(limited.httpStatus == 429)
            #expect(limited.disposition == .retry(after: .seconds(1_800)))
            #expect(limited.rateLimit?.remaining == 0)
        }
    }

    @Test func pageSizeAbove20IsRejectedLocally() async throws {
        try await withHarness { h in
            let error = try #require(await providerError { try await h.brevo().listChildren(limit: 21) })
            #expect(error.kind == .invalidRequest)
            #expect(error.code == "out_of_range")
            #expect(await h.control.requests().isEmpty)
        }
    }
}

import ProviderFakes
import Providers
import Testing

/// Every row of docs/providers.md §4.5, answered by the fake over real HTTP.
@Suite("Brevo errors → disposition (docs/providers.md §4.5)")
struct BrevoDispositionTests {
    enum Call: Sendable { case getChild, addCredits, createChild }

    struct Row: Sendable, CustomTestStringConvertible {
        var status: Int
        var code: String
        var call: Call = .getChild
        var expected: Disposition
        var kind: ProviderError.Kind = .rejected
        var outcomeUnknown = false
        var attemptCap: Int? = nil
        var headers: [FakeHeader] = []
        var testDescription: String { "\(status) \(code) on \(call)" }
    }

    static let alert = Disposition.alert(requeueAfterFix: true)

    static let rows: [Row] = [
        Row(status: 400, code: "invalid_parameter", expected: .permanent),
        Row(status: 400, code: "missing_parameter", call: .createChild, expected: .permanent),
        Row(status: 400, code: "out_of_range", expected: .permanent),
        Row(status: 400, code: "bad_request", expected: .permanent),
        Row(status: 401, code: "unauthorized", expected: alert),
        Row(status: 402, code: "not_enough_credits", call: .addCredits, expected: alert),
        Row(status: 403, code: "permission_denied", expected: alert),
        Row(status: 403, code: "reseller_permission_denied", expected: alert),
        Row(status: 403, code: "account_under_validation", expected: alert),
        Row(status: 404, code: "document_not_found", expected: .permanent, kind: .staleIdentifier),
        Row(status: 405, code: "method_not_allowed", expected: .permanent),
        Row(status: 406, code: "not_acceptable", expected: .permanent),
        Row(status: 422, code: "unprocessable_entity", expected: .permanent),
        Row(status: 409, code: "duplicate_request", call: .addCredits, expected: .retry(after: nil), outcomeUnknown: true, attemptCap: 2),
        Row(status: 429, code: "too_many_requests", expected: .retry(after: .seconds(37)),
            headers: [FakeHeader("x-sib-ratelimit-limit", "100"), FakeHeader("x-sib-ratelimit-remaining", "0"), FakeHeader("x-sib-ratelimit-reset", "37")]),
        Row(status: 500, code: "internal_error", expected: .retry(after: nil)),
        Row(status: 503, code: "unavailable", call: .createChild, expected: .retry(after: nil), outcomeUnknown: true),
        Row(status: 502, code: "bad_gateway", call: .addCredits, expected: .retry(after: nil), outcomeUnknown: true),
    ]

    @Test(arguments: rows)
    func errorMapsToDisposition(_ row: Row) async throws {
        try await withHarness { h in
            let brevo = h.brevo()
            let endpoint: FakeEndpoint =
                switch row.call {
                case .getChild: .brevoGetChild
                case .addCredits: .brevoAddCredits
                case .createChild: .brevoCreateChild
                }
            await h.control.enqueue(.brevo(httpStatus: row.status, code: row.code, message: "msg \(row.code)", headers: row.headers), for: endpoint)
            let error = try #require(
                await providerError { () async throws -> Void in
                    switch row.call {
                    case .getChild: _ = try await brevo.child(.id(1))
                    case .addCredits: _ = try await brevo.addCredits(to: .id(1), sms: 1)
                    case .createChild:
                        _ = try await brevo.createChild(
                            BrevoNewChild(email: "a@example.com", firstName: "A", lastName: "B", companyName: "C", password: "p"))
                    }
                })
            #expect(error.provider == .brevo)
            #expect(error.httpStatus == row.status)
            #expect(error.code == row.code)
            #expect(error.message == "msg \(row.code)")
            #expect(error.disposition == row.expected)
            #expect(error.kind == row.kind)
            #expect(error.outcomeUnknown == row.outcomeUnknown)
            #expect(error.suggestedMaxAttempts == row.attemptCap)
        }
    }

    @Test func fakeOwnAnswersForKeyAndCredit() async throws {
        try await withHarness { h in
            let revoked = try #require(await providerError { try await h.brevo(apiKey: "xkeysib-revoked").listChildren() })
            #expect(revoked.code == "unauthorized")
            #expect(revoked.disposition == Self.alert)

            let brevo = h.brevo()
            let child = try await brevo.createChild(
                BrevoNewChild(email: "a@example.com", firstName: "A", lastName: "B", companyName: "C", password: "p"))
            await h.control.setBrevoResellerCredits(sms: 10, email: 10)
            let childID = try #require(child.value.identifier)
            let poor = try #require(await providerError { try await brevo.addCredits(to: childID, sms: 11) })
            #expect(poor.code == "not_enough_credits")
            #expect(poor.disposition == Self.alert)
            #expect(!poor.outcomeUnknown)

            let stale = try #require(await providerError { try await brevo.child(.id(99)) })
            #expect(stale.code == "document_not_found")
            #expect(stale.kind == .staleIdentifier)
        }
    }
}

import ProviderFakes
import Providers
import Testing

/// Every row of docs/providers.md §2.6 (Table 1 plus 604/607), answered by the fake over real HTTP.
@Suite("Kavenegar return codes → disposition (docs/providers.md §2.6)")
struct KavenegarDispositionTests {
    struct Row: Sendable, CustomTestStringConvertible {
        var code: Int
        var expected: Disposition
        var testDescription: String { "\(code) → \(expected)" }
    }

    static let alert = Disposition.alert(requeueAfterFix: true)
    static let alertPermanent = Disposition.alert(requeueAfterFix: false)

    static let rows: [Row] = [
        Row(code: 400, expected: .permanent), Row(code: 401, expected: alert),
        Row(code: 402, expected: .retry(after: nil)), Row(code: 403, expected: alert),
        Row(code: 404, expected: .permanent), Row(code: 405, expected: .permanent),
        Row(code: 406, expected: .permanent), Row(code: 407, expected: alert),
        Row(code: 409, expected: .retry(after: nil)), Row(code: 411, expected: .permanent),
        Row(code: 412, expected: alertPermanent), Row(code: 413, expected: .permanent),
        Row(code: 414, expected: .permanent), Row(code: 415, expected: .permanent),
        Row(code: 416, expected: alert), Row(code: 417, expected: .permanent),
        Row(code: 418, expected: alert), Row(code: 419, expected: .permanent),
        Row(code: 420, expected: alertPermanent), Row(code: 422, expected: .permanent),
        Row(code: 424, expected: alertPermanent), Row(code: 426, expected: alert),
        Row(code: 427, expected: alert), Row(code: 428, expected: .permanent),
        Row(code: 429, expected: alert), Row(code: 431, expected: .permanent),
        Row(code: 432, expected: alertPermanent), Row(code: 451, expected: .retry(after: .seconds(60))),
        Row(code: 501, expected: alert), Row(code: 604, expected: .permanent),
        Row(code: 607, expected: .permanent),
    ]

    @Test(arguments: rows)
    func codeMapsToDisposition(_ row: Row) async throws {
        try await withHarness { h in
            await h.control.enqueue(.kavenegar(code: row.code, message: "پیام خطا"), for: .kavenegarSend)
            let error = try #require(
                await providerError {
                    try await h.kavenegar().send(KavenegarSend(receptors: ["09121234567"], message: "x", localIDs: ["1"]))
                })
            #expect(error.provider == .kavenegar)
            #expect(error.code == String(row.code))
            #expect(error.httpStatus == row.code)  // mirrored into the HTTP status, still read from the body
            #expect(error.message == "پیام خطا")
            #expect(error.kind == .rejected)
            #expect(error.disposition == row.expected)
            #expect(!error.outcomeUnknown)
        }
    }

    @Test func code402IsCappedAtThreeAttempts() async throws {
        try await withHarness { h in
            await h.control.enqueue(.kavenegar(code: 402), for: .kavenegarAccountInfo)
            let error = try #require(await providerError { try await h.kavenegar().accountInfo() })
            #expect(error.suggestedMaxAttempts == 3)
        }
    }

    @Test func invalidSenderIsPermanentWhenItIsNotOurLine() async throws {
        try await withHarness { h in
            await h.control.enqueue(.kavenegar(code: 412), for: .kavenegarSend)
            let error = try #require(
                await providerError {
                    try await h.kavenegar(sender: "10004346").send(
                        KavenegarSend(receptors: ["09121234567"], message: "x", localIDs: ["1"], sender: "30001234"))
                })
            #expect(error.disposition == .permanent)
        }
    }

    @Test func realFakeAnswersDriveTheSameTable() async throws {
        // Not a canned reply: the fake's own account logic produces 403, 418 and 424.
        try await withHarness { h in
            let lookup = KavenegarLookup(receptor: "09121234567", template: "verify", token: "1234")
            let badKey = try #require(await providerError { try await h.kavenegar(apiKey: "revoked").lookup(lookup) })
            #expect(badKey.code == "403")
            #expect(badKey.disposition == Self.alert)

            await h.control.setKavenegarCredit(50)
            let noCredit = try #require(await providerError { try await h.kavenegar().lookup(lookup) })
            #expect(noCredit.code == "418")
            #expect(noCredit.disposition == Self.alert)

            var missing = lookup
            missing.template = "not-approved-yet"
            let noTemplate = try #require(await providerError { try await h.kavenegar().lookup(missing) })
            #expect(noTemplate.code == "424")
            #expect(noTemplate.disposition == Self.alertPermanent)
        }
    }

    @Test func unparseableBodiesFallBackToHTTPClass() async throws {
        try await withHarness { h in
            let client = h.kavenegar()
            await h.control.enqueue(.reply(.text(502, "<html>Bad Gateway</html>")), for: .kavenegarStatus)
            let gateway = try #require(await providerError { try await client.status(messageIDs: [1]) })
            #expect(gateway.kind == .unparseableResponse)
            #expect(gateway.disposition == .retry(after: nil))

            // A 4xx that is not Kavenegar's envelope is no verdict on the input (a proxy's page): retried, not permanent.
            await h.control.enqueue(.reply(.text(400, "nope")), for: .kavenegarStatus)
            let bad = try #require(await providerError { try await client.status(messageIDs: [1]) })
            #expect(bad.disposition == .retry(after: nil))

            // A 5xx without envelope on verify/lookup: it may have been sent.
            await h.control.enqueue(.reply(.text(500, "oops")), for: .kavenegarLookup)
            let lookup = try #require(
                await providerError {
                    try await client.lookup(KavenegarLookup(receptor: "09121234567", template: "verify", token: "1"))
                })
            #expect(lookup.outcomeUnknown)
            #expect(lookup.suggestedMaxAttempts == 2)
        }
    }
}

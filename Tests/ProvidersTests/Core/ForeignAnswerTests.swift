import Foundation
import HoopoeJSON
import ProviderFakes
import Providers
import Testing

/// Answers that are not the provider's own: a WAF's or geo-block's page, a 404 from a wrong base path, a redirect, a
/// 200 page from a proxy, a success envelope without the ids. None of them is the provider's verdict on the input, so
/// none is `permanent`; a success the client cannot read is a lost answer, never "sent" or "0 credits".
@Suite("Answers that are not the provider's envelope")
struct ForeignAnswerTests {
    static let alert = Disposition.alert(requeueAfterFix: true)
    static let lookup = KavenegarLookup(receptor: "09121234567", template: "verify", token: "1234")
    static let pattern = IPPanelPatternMessage(code: "p1", recipient: "+989121234567", params: ["code": "1"])
    static let wafPage = "<html><head><title>403 Forbidden</title></head><body>Access denied by policy</body></html>"

    // MARK: - 4xx pages: alert (401/403) or retry, never permanent

    struct Row: Sendable, CustomTestStringConvertible {
        var status: Int
        var expected: Disposition
        var testDescription: String { "HTML \(status) → \(expected)" }
    }

    static let rows: [Row] = [
        Row(status: 403, expected: alert), Row(status: 401, expected: alert), Row(status: 404, expected: .retry(after: nil)),
        Row(status: 400, expected: .retry(after: nil)), Row(status: 410, expected: .retry(after: nil)),
    ]

    @Test(arguments: rows)
    func kavenegarLookup(_ row: Row) async throws {
        try await withHarness { h in
            await h.control.enqueue(.reply(.text(row.status, Self.wafPage)), for: .kavenegarLookup)
            let error = try #require(await providerError { try await h.kavenegar().lookup(Self.lookup) })
            #expect(error.kind == .unparseableResponse)
            #expect(error.code == String(row.status))
            #expect(error.disposition == row.expected)
            #expect(!error.outcomeUnknown, "a 4xx page answers before anything is sent")
        }
    }

    @Test(arguments: rows)
    func ippanelSend(_ row: Row) async throws {
        try await withHarness { h in
            await h.control.enqueue(.reply(.text(row.status, Self.wafPage)), for: .ippanelSend)
            let error = try #require(await providerError { try await h.ippanel().sendPattern(Self.pattern) })
            #expect(error.kind == .unparseableResponse)
            #expect(error.disposition == row.expected)
            #expect(!error.outcomeUnknown)
        }
    }

    @Test(arguments: rows)
    func brevoGetChild(_ row: Row) async throws {
        try await withHarness { h in
            await h.control.enqueue(.reply(.text(row.status, Self.wafPage)), for: .brevoGetChild)
            let error = try #require(await providerError { try await h.brevo().child(.id(1)) })
            #expect(error.kind == .unparseableResponse, "a 404 page from a wrong base path is no stale child id")
            #expect(error.disposition == row.expected)
            #expect(!error.outcomeUnknown)
        }
    }

    /// The providers' own refusals keep their tables: Kavenegar's envelope with an unlisted 4xx code is still its verdict.
    @Test func theProvidersOwnCodesStayPermanent() async throws {
        try await withHarness { h in
            await h.control.enqueue(.kavenegar(code: 411), for: .kavenegarLookup)
            #expect(await providerError { try await h.kavenegar().lookup(Self.lookup) }?.disposition == .permanent)
            await h.control.enqueue(.kavenegar(code: 499, message: "unlisted"), for: .kavenegarLookup)
            #expect(await providerError { try await h.kavenegar().lookup(Self.lookup) }?.disposition == .permanent)
            await h.control.enqueue(.brevo(httpStatus: 404, code: "document_not_found"), for: .brevoGetChild)
            #expect(await providerError { try await h.brevo().child(.id(1)) }?.kind == .staleIdentifier)
            await h.control.enqueue(.ippanel(httpStatus: 422, messageCode: "400-2"), for: .ippanelSend)
            #expect(await providerError { try await h.ippanel().sendPattern(Self.pattern) }?.disposition == .permanent)
        }
    }

    // MARK: - Redirects: an alert, outcome known

    @Test func aRedirectIsAnAlertWithTheOutcomeKnown() async throws {
        try await withHarness { h in
            let moved = FakeReply(status: 301, headers: [FakeHeader("Location", "https://elsewhere.example/v1")], body: Array("Moved".utf8))
            await h.control.enqueue(.reply(moved), for: .kavenegarLookup)
            let kavenegar = try #require(await providerError { try await h.kavenegar().lookup(Self.lookup) })
            #expect(kavenegar.disposition == Self.alert)
            #expect(!kavenegar.outcomeUnknown, "a redirect acted on nothing")
            #expect(kavenegar.suggestedMaxAttempts == nil)

            await h.control.enqueue(.reply(FakeReply(status: 308, headers: [FakeHeader("Location", "/x")])), for: .ippanelSend)
            let ippanel = try #require(await providerError { try await h.ippanel().sendPattern(Self.pattern) })
            #expect(ippanel.disposition == Self.alert)
            #expect(!ippanel.outcomeUnknown)

            await h.control.enqueue(.reply(FakeReply(status: 302, headers: [FakeHeader("Location", "/x")])), for: .brevoCreateChild)
            let brevo = try #require(
                await providerError {
                    try await h.brevo().createChild(
                        BrevoNewChild(email: "a@example.com", firstName: "A", lastName: "B", companyName: "C", password: "p"))
                })
            #expect(brevo.disposition == Self.alert)
            #expect(!brevo.outcomeUnknown)
            #expect(await h.control.brevoChildEmails().isEmpty)
        }
    }

    // MARK: - Successes that cannot be read

    @Test func aBrevoSuccessPageIsNoAnswer() async throws {
        try await withHarness { h in
            let brevo = h.brevo()
            let page = FakeFault.reply(.text(200, "<html>maintenance</html>"))
            await h.control.enqueue(page, for: .brevoGetChild)
            let child = try #require(await providerError { try await brevo.child(.id(1)) }, "credits read as 0")
            #expect(child.kind == .unparseableResponse && child.disposition == .retry(after: nil) && !child.outcomeUnknown)

            await h.control.enqueue(page, for: .brevoListChildren)
            let list = try #require(await providerError { try await brevo.findChild(email: "a@example.com") }, "read as no such child")
            #expect(list.kind == .unparseableResponse && list.disposition == .retry(after: nil))

            await h.control.enqueue(page, for: .brevoCreationStatus)
            #expect(await providerError { try await brevo.creationStatus(of: .id(1)) }?.kind == .unparseableResponse)

            await h.control.enqueue(page, for: .brevoAddCredits)
            let add = try #require(await providerError { try await brevo.addCredits(to: .id(1), sms: 5) })
            #expect(add.outcomeUnknown && add.disposition == .retry(after: nil), "the credits may have been added")

            await h.control.enqueue(page, for: .brevoCreateChild)
            let create = try #require(
                await providerError {
                    try await brevo.createChild(
                        BrevoNewChild(email: "a@example.com", firstName: "A", lastName: "B", companyName: "C", password: "p"))
                })
            #expect(create.outcomeUnknown && create.disposition == .retry(after: nil))

            await h.control.enqueue(page, for: .brevoEmailEvents)
            #expect(await providerError { try await brevo.emailEvents(tag: "t", email: "a@example.com", days: 1) }?.kind == .unparseableResponse)
        }
    }

    /// JSON, but without the fields the caller needs: as unreadable as a page.
    @Test func aBrevoSuccessWithoutTheDocumentedFieldsIsNoAnswer() async throws {
        try await withHarness { h in
            let brevo = h.brevo()
            await h.control.enqueue(.reply(.json(200, ["email": "a@example.com", "credits": [:]])), for: .brevoGetChild)
            #expect(await providerError { try await brevo.child(.id(1)) }?.kind == .unparseableResponse)
            await h.control.enqueue(.reply(.json(200, ["children": [["email": "a@example.com"]], "count": 1])), for: .brevoListChildren)
            #expect(await providerError { try await brevo.listChildren() }?.kind == .unparseableResponse)
            await h.control.enqueue(.reply(.json(200, [:])), for: .brevoCreationStatus)
            #expect(await providerError { try await brevo.creationStatus(of: .id(1)) }?.kind == .unparseableResponse)
            await h.control.enqueue(.reply(.json(201, ["message": "ok"])), for: .brevoCreateChild)
            let create = try #require(
                await providerError {
                    try await brevo.createChild(
                        BrevoNewChild(email: "b@example.com", firstName: "A", lastName: "B", companyName: "C", password: "p"))
                })
            #expect(create.outcomeUnknown)
            // The fake's own answers have every field.
            let made = try await brevo.createChild(
                BrevoNewChild(email: "c@example.com", firstName: "A", lastName: "B", companyName: "C", password: "p"))
            let id = try #require(made.value.identifier)
            #expect(try await brevo.child(id).value.smsCredits != nil)
            #expect(try await brevo.findChild(email: "c@example.com").value != nil)
        }
    }

    /// `return.status` 200 without `entries`: Kavenegar took it, but there is no messageid to record or poll.
    @Test func aKavenegarSuccessWithoutEntriesIsALostAnswer() async throws {
        try await withHarness { h in
            let success = FakeFault.reply(.json(200, ["return": ["status": 200, "message": "تایید شد"]]))
            await h.control.enqueue(success, for: .kavenegarLookup)
            let lookup = try #require(await providerError { try await h.kavenegar().lookup(Self.lookup) }, "sent with no ids")
            #expect(lookup.kind == .unparseableResponse && lookup.disposition == .retry(after: nil))
            #expect(lookup.outcomeUnknown, "it may have gone out: the outbox is asked before sending again")
            #expect(lookup.suggestedMaxAttempts == 2)

            await h.control.enqueue(success, for: .kavenegarSend)
            let send = try #require(
                await providerError { try await h.kavenegar().send(KavenegarSend(receptors: ["09121234567"], message: "x", localIDs: ["1"])) })
            #expect(send.kind == .unparseableResponse && !send.outcomeUnknown, "its localid makes a re-send safe")
        }
    }

    @Test func anIPPanelSuccessWithoutOutboxIDsIsALostAnswer() async throws {
        try await withHarness { h in
            await h.control.enqueue(.reply(.json(200, ["data": [:], "meta": ["status": true, "message": "ok"]])), for: .ippanelSend)
            let error = try #require(await providerError { try await h.ippanel().sendPattern(Self.pattern) }, "sent with no ids")
            #expect(error.kind == .unparseableResponse && error.disposition == .retry(after: nil))
            #expect(error.outcomeUnknown)
            await h.control.enqueue(.reply(.json(200, ["data": [:], "meta": ["status": true]])), for: .ippanelCredit)
            #expect(await providerError { try await h.ippanel().credit() }?.kind == .unparseableResponse, "credit read as 0")
        }
    }

    // MARK: - Secrets in an echoed URL

    /// A 404 page that echoes the request URL, the key straddling the excerpt's cut: none of it in the error.
    @Test func aKeyTheExcerptsCutGoesThroughIsRedactedWhole() async throws {
        try await withHarness { h in
            let key = h.options.kavenegarAPIKey
            let before = "<html><body><h1>Not Found</h1><p>"
            let path = "/kavenegar/v1/\(key)/verify/lookup.json"
            let padding = String(repeating: "x", count: 188 - before.utf8.count - "/kavenegar/v1/".utf8.count)
            let page = before + padding + path + " was not found on this server.</p></body></html>"
            #expect(Array(page.utf8)[188..<(188 + key.utf8.count)].elementsEqual(key.utf8), "the key at byte 188")
            await h.control.enqueue(.reply(.text(404, page)), for: .kavenegarLookup)
            let error = try #require(await providerError { try await h.kavenegar().lookup(Self.lookup) })
            for text in [error.message, error.description, h.logs.text] {
                #expect(!text.contains(String(key.prefix(4))), "part of the key: \(text)")
            }
            #expect(error.message.contains("[REDACTED]"))

            await h.control.enqueue(.reply(.text(404, page.replacingOccurrences(of: key, with: h.options.ippanelAPIKey))), for: .ippanelSend)
            let ippanel = try #require(await providerError { try await h.ippanel().sendPattern(Self.pattern) })
            #expect(!ippanel.message.contains(String(h.options.ippanelAPIKey.prefix(4))))

            await h.control.enqueue(.reply(.text(404, page.replacingOccurrences(of: key, with: h.options.brevoAPIKey))), for: .brevoGetChild)
            let brevo = try #require(await providerError { try await h.brevo().child(.id(1)) })
            #expect(!brevo.message.contains(String(h.options.brevoAPIKey.prefix(4))))
        }
    }
}

@Suite struct BodyExcerptSecretTests {
    let key = "fake-kavenegar-key"

    @Test func aSecretAcrossTheCutIsRedactedBeforeTheCut() {
        let head = String(repeating: "x", count: BodyExcerpt.limit - 6)
        let excerpt = BodyExcerpt.of(Array((head + key + " tail").utf8), hiding: [key])
        #expect(excerpt == head + "[REDAC…")
        #expect(!excerpt.contains("fake"))
    }

    /// An answer that itself cut the key short (an echoed, truncated URL): the start of the key at the cut goes too.
    @Test func aRunAtTheCutThatStartsASecretIsDropped() {
        let head = String(repeating: "x", count: BodyExcerpt.limit - 6)
        let body = head + "/fake-kav" + String(repeating: "y", count: 20)
        #expect(BodyExcerpt.of(Array(body.utf8), hiding: [key]) == head + "/…")
        // Three characters say too little to drop.
        let short = String(repeating: "x", count: BodyExcerpt.limit - 3) + "fak" + "zzzz"
        #expect(BodyExcerpt.of(Array(short.utf8), hiding: [key]) == String(repeating: "x", count: BodyExcerpt.limit - 3) + "fak…")
    }

    @Test func aShortBodyIsRedactedWhole() {
        #expect(BodyExcerpt.of(Array("GET /v1/\(key)/x".utf8), hiding: [key]) == "GET /v1/[REDACTED]/x")
    }
}

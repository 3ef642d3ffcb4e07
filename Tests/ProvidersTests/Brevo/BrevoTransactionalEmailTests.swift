import AsyncHTTPClient
import Foundation
import HoopoeJSON
import NIOCore
import NIOHTTP1
import ProviderFakes
import Providers
import Testing

/// `POST /v3/smtp/email` and `GET /v3/smtp/statistics/events`: what the client sends, what the fake (as strict as
/// Brevo's reference) accepts, and the parts of the API that make a lost answer survivable.
@Suite("Brevo transactional email")
struct BrevoTransactionalEmailTests {
    static func email(_ tag: String = "reminder.expiration.email:42:1734294599:3", template: Int64 = 17) -> BrevoTransactionalEmail {
        BrevoTransactionalEmail(
            toEmail: "sara@example.com", toName: "سارا", templateID: template,
            params: ["days_left_text": "۳ روز دیگر", "receipt_url": "https://kamva.ir/email/receipt/R-1"],
            tag: tag, idempotencyKey: "hoopoe-key-" + tag)
    }

    @Test("the request carries to, templateId, params, the tag and headers.idempotencyKey; the answer's messageId comes back")
    func sendsTheDocumentedBody() async throws {
        try await withHarness { h in
            let sent = try await h.brevo().sendTransactionalEmail(Self.email())
            #expect(sent.value.hasSuffix("@smtp-relay.mailin.fr>"))
            let request = try #require(await h.control.requests(to: .brevoSendEmail).first)
            #expect(request.method == "POST")
            #expect(request.header("api-key") == h.options.brevoAPIKey)
            #expect(request.header("content-type") == "application/json")
            let body = try #require(JSONValue.parse(request.body))
            #expect(body["to"] == [["email": "sara@example.com", "name": "سارا"]])
            #expect(body["templateId"] == 17)
            #expect(body["params"]?["days_left_text"] == "۳ روز دیگر")
            #expect(body["tags"] == ["reminder.expiration.email:42:1734294599:3"])
            #expect(body["headers"] == ["idempotencyKey": .string("hoopoe-key-" + Self.email().tag)])
            #expect(!h.logs.text.contains("sara@example.com"), "no address in the logs")
        }
    }

    @Test("a template without placeholders: no params in the body (Brevo refuses an empty object), and it is sent")
    func noParamsNoParamsField() async throws {
        try await withHarness { h in
            var email = Self.email("no-params")
            email.params = [:]
            _ = try await h.brevo().sendTransactionalEmail(email)
            let request = try #require(await h.control.requests(to: .brevoSendEmail).first)
            let body = try #require(JSONValue.parse(request.body))
            #expect(body["params"] == nil)
            #expect(body["templateId"] == 17)
        }
    }

    @Test("a repeated idempotency key within Brevo's TTL is refused with 400 duplicate_parameter and sends nothing new")
    func idempotencyKey() async throws {
        try await withHarness { h in
            let brevo = h.brevo()
            let first = try await brevo.sendTransactionalEmail(Self.email())
            let error = await #expect(throws: ProviderError.self) { try await brevo.sendTransactionalEmail(Self.email()) }
            #expect(error?.httpStatus == 400 && error?.code == "duplicate_parameter")
            let events = try await brevo.emailEvents(tag: Self.email().tag, email: "sara@example.com", days: 1)
            #expect(events.value.map(\.messageID) == [first.value])
            #expect(events.value.first?.event == "requests")
        }
    }

    @Test("a send whose answer is lost is unknown, and the events report finds it by its tag (only its own)")
    func lostAnswerIsFoundByTag() async throws {
        try await withHarness { h in
            let brevo = h.brevo()
            _ = try await brevo.sendTransactionalEmail(Self.email("other-message"))
            await h.control.enqueue(.succeedThenDrop, for: .brevoSendEmail)
            let error = try #require(await providerError { try await brevo.sendTransactionalEmail(Self.email()) })
            #expect(error.outcomeUnknown)
            #expect(error.disposition.isRetry)
            let found = try await brevo.emailEvents(tag: Self.email().tag, email: "sara@example.com", days: 1)
            let targets = await h.control.requests(to: .brevoEmailEvents).map(\.target)
            #expect(found.value.count == 1 && found.value.first?.tag == Self.email().tag, "\(found.value) \(targets)")
            let none = try await brevo.emailEvents(tag: "never-sent", email: "sara@example.com", days: 1)
            #expect(none.value.isEmpty)
            let query = try #require(await h.control.requests(to: .brevoEmailEvents).first?.target)
            #expect(query.contains("tags=") && query.contains("email=") && query.contains("days=1"))
            #expect(!error.description.contains("sara@example.com"))
        }
    }

    @Test("the email routes have their own rate window: a spent reseller window (100/h) does not stop emails")
    func separateWindows() async throws {
        try await withHarness { h in
            await h.control.setBrevoRateLimit(limit: 100, remaining: 0, reset: 3600)
            let sent = try await h.brevo().sendTransactionalEmail(Self.email())
            #expect(sent.rateLimit?.limit == 3_600_000)
            #expect(await h.control.brevoEmailCount() == 1)
        }
    }

    @Test("429 as Brevo spells it: x-sib-ratelimit-* headers, {code, message}, retry after the reset")
    func rateLimited() async throws {
        try await withHarness { h in
            await h.control.setBrevoEmailRateLimit(limit: 100, remaining: 0, reset: 42)
            let error = try #require(await providerError { try await h.brevo().sendTransactionalEmail(Self.email()) })
            #expect(error.httpStatus == 429)
            #expect(error.code == "too_many_requests")
            #expect(error.disposition == .retry(after: .seconds(42)))
            #expect(error.rateLimit?.remaining == 0)
            #expect(!error.outcomeUnknown, "a 429 was refused: nothing was sent")
        }
    }

    @Test("an absurd x-sib-ratelimit-reset (1e300, inf, negative) is clamped, never a trap", arguments: [
        ("1e300", Duration.seconds(604_800)), ("inf", nil), ("-5", Duration.zero),
    ])
    func hugeReset(header: String, expected: Duration?) async throws {
        try await withHarness { h in
            await h.control.enqueue(
                .brevo(httpStatus: 429, code: "too_many_requests", headers: [FakeHeader("x-sib-ratelimit-reset", header)]), for: .brevoSendEmail)
            let error = try #require(await providerError { try await h.brevo().sendTransactionalEmail(Self.email()) })
            #expect(error.rateLimit?.reset == expected)
        }
    }

    @Test("the fake refuses what Brevo refuses", arguments: [
        (#"{"templateId":17}"#, "missing_parameter"),
        (#"{"to":[{"email":"not-an-address"}],"templateId":17}"#, "invalid_parameter"),
        (#"{"to":[{"email":"a@b.ir"}],"templateId":"17"}"#, "invalid_parameter"),
        (#"{"to":[{"email":"a@b.ir"}],"templateId":5000}"#, "invalid_parameter"),
        (#"{"to":[{"email":"a@b.ir"}]}"#, "missing_parameter"),
        (#"{"to":[{"email":"a@b.ir"}],"templateId":17,"params":"x"}"#, "invalid_parameter"),
        (#"{"to":[{"email":"a@b.ir"}],"templateId":17,"params":{}}"#, "missing_parameter"),
        (#"{"to":[{"email":"a@b.ir"}],"templateId":17,"tags":[1]}"#, "invalid_parameter"),
        (#"[1]"#, "bad_request"),
    ])
    func strict(body: String, code: String) async throws {
        try await withHarness { h in
            var request = HTTPClientRequest(url: h.fakes.brevoBaseURL + "/smtp/email")
            request.method = .POST
            request.headers.add(name: "api-key", value: h.options.brevoAPIKey)
            request.headers.add(name: "content-type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body))
            let response = try await h.http.execute(request, timeout: .seconds(10))
            let bytes = try await response.body.collect(upTo: 1 << 16)
            #expect(response.status == .badRequest)
            #expect(JSONValue.parse(Array(buffer: bytes))?["code"]?.stringValue == code)
        }
    }

    @Test("the events report: days 1-90, not with startDate; limit at most 5000")
    func eventsQueryRules() async throws {
        try await withHarness { h in
            for query in ["days=91", "days=3&startDate=2024-01-01&endDate=2024-01-02", "limit=5001"] {
                var request = HTTPClientRequest(url: h.fakes.brevoBaseURL + "/smtp/statistics/events?" + query)
                request.headers.add(name: "api-key", value: h.options.brevoAPIKey)
                let response = try await h.http.execute(request, timeout: .seconds(10))
                #expect(response.status == .badRequest, "\(query)")
            }
        }
    }
}

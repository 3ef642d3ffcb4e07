import Foundation
import HoopoeJSON
import ProviderFakes
import Providers
import Testing

/// The fake Kavenegar refuses what the real service refuses (seed 002, Table 1), with the service's own error body.
@Suite("Fake Kavenegar is as strict as seed 002")
struct FakeKavenegarStrictnessTests {
    static let form = [("Content-Type", "application/x-www-form-urlencoded")]

    func post(_ h: Harness, _ method: String, _ body: String) async throws -> RawAnswer {
        try await rawHTTP(h.http, "POST", "\(h.fakes.kavenegarBaseURL)/\(h.options.kavenegarAPIKey)/\(method).json", body: body, headers: Self.form)
    }

    /// The error body byte for byte: `return` first with Table 1's message, `entries` null, the code as HTTP status.
    @Test func errorBodyIsTheServicesOwn() async throws {
        try await withHarness { h in
            let answer = try await rawHTTP(h.http, "POST", "\(h.fakes.kavenegarBaseURL)/wrong-key/sms/send.json", body: "", headers: Self.form)
            #expect(answer.status == 403)
            #expect(answer.text == #"{"return":{"status":403,"message":"کد شناسائی API-Key معتبر نمیباشد"},"entries":null}"#)
        }
    }

    @Test(arguments: ["12345", "0912123456", "+98912123456a", " 989121234567"])
    func invalidReceptorIs411(_ receptor: String) async throws {
        try await withHarness { h in
            let answer = try await post(h, "sms/send", "receptor=\(FormEncoding.percentEncode(receptor))&message=hi")
            #expect(answer.status == 411)
            #expect(answer.json?["return"]?["message"]?.stringValue == "دریافت کننده نامعتبر است")
            #expect(await h.control.kavenegarMessageCount() == 0)
        }
    }

    /// A `+` not percent-encoded is a space in a form body: the number arrives broken and the service says 411.
    @Test func rawPlusInFormBodyIs411() async throws {
        try await withHarness { h in
            try await expectStatus(post(h, "sms/send", "receptor=+989121234567&message=hi"), 411)
            try await expectStatus(post(h, "verify/lookup", "receptor=+989121234567&template=verify&token=1"), 411)
            try await expectStatus(post(h, "sms/send", "receptor=%2B989121234567&message=hi"), 200)
        }
    }

    @Test func senderOutsideTheAccountsLinesIs412() async throws {
        try await withHarness { h in
            try await expectStatus(post(h, "sms/send", "receptor=09121234567&message=hi&sender=30001234"), 412)
            // The seed's three spellings of the account's own line are all accepted.
            for sender in ["%2B9810004346", "009810004346", "10004346"] {
                try await expectStatus(post(h, "sms/send", "receptor=09121234567&message=hi&sender=\(sender)"), 200)
            }
        }
    }

    @Test(arguments: ["1356619709", "tomorrow", "-1"])
    func pastOrBadDateIs417(_ date: String) async throws {
        try await withHarness { h in
            let answer = try await post(h, "sms/send", "receptor=09121234567&message=hi&date=\(date)")
            #expect(answer.status == 417)
            #expect(answer.json?["return"]?["message"]?.stringValue == "تاریخ ارسال اشتباه است و فرمت آن صحیح نمی باشد.")
        }
    }

    @Test func futureDateIsAccepted() async throws {
        try await withHarness { h in
            let later = Int(Date().timeIntervalSince1970) + 3600
            try await expectStatus(post(h, "sms/send", "receptor=09121234567&message=hi&date=\(later)"), 200)
        }
    }

    /// Switchable: with links restricted, a link in a token or a message is 420; without, it goes.
    @Test func linksRestrictedIs420WhenSwitchedOn() async throws {
        try await withHarness { h in
            let lookup = "receptor=09121234567&template=verify&token=1&token3=https%3A%2F%2Fkamva.ir%2Femail%2Freceipt%2F981"
            try await expectStatus(post(h, "verify/lookup", lookup), 200)
            await h.control.setKavenegarLinksRestricted(true)
            let refused = try await post(h, "verify/lookup", lookup)
            #expect(refused.status == 420)
            #expect(refused.text == #"{"return":{"status":420,"message":"استفاده از لینک در متن پیام برای شما محدود شده است"},"entries":null}"#)
            try await expectStatus(post(h, "sms/send", "receptor=09121234567&message=see%20www.kamva.ir"), 420)
            try await expectStatus(post(h, "verify/lookup", "receptor=09121234567&template=verify&token=1"), 200)
            let error = try #require(await providerError {
                try await h.kavenegar().lookup(KavenegarLookup(receptor: "09121234567", template: "verify", token: "1", token3: "https://kamva.ir/r/1"))
            })
            #expect(error.code == "420")
        }
    }

    /// The seed takes parameters "by GET or POST": a GET with a query works like the POST the SDK sends.
    /// The outbox reads of seed 002: `selectoutbox` needs a start at most 3 days back and, with an end, a window of at
    /// most a day (`417`); `latestoutbox` takes at most 500 (`400`), newest first. A lookup's row carries its tokens.
    @Test func outboxReadsFollowTheSeed() async throws {
        try await withHarness { h in
            try await expectStatus(post(h, "verify/lookup", "receptor=09121234567&template=verify&token=4321&token10=Sara"), 200)
            try await expectStatus(post(h, "sms/send", "receptor=09351112233&message=hi"), 200)
            let now = Int64(Date().timeIntervalSince1970)
            try await expectStatus(post(h, "sms/selectoutbox", ""), 400)
            try await expectStatus(post(h, "sms/selectoutbox", "startdate=\(now - 4 * 86_400)"), 417)
            try await expectStatus(post(h, "sms/selectoutbox", "startdate=\(now - 60)&enddate=\(now - 120)"), 417)
            try await expectStatus(post(h, "sms/selectoutbox", "startdate=\(now - 2 * 86_400)&enddate=\(now)"), 417)
            let select = try await post(h, "sms/selectoutbox", "startdate=\(now - 60)&enddate=")
            let rows = select.json?["entries"]?.arrayValue ?? []
            #expect(rows.map { $0["receptor"]?.stringValue } == ["09121234567", "09351112233"])
            #expect(rows.first?["message"]?.stringValue?.contains("4321") == true && rows.first?["message"]?.stringValue?.contains("Sara") == true)
            try await expectStatus(post(h, "sms/latestoutbox", "pagesize=501"), 400)
            let latest = try await post(h, "sms/latestoutbox", "pagesize=1")
            #expect(latest.json?["entries"]?.arrayValue?.map { $0["receptor"]?.stringValue } == ["09351112233"])
        }
    }

    @Test func getWithQueryIsAccepted() async throws {
        try await withHarness { h in
            let base = "\(h.fakes.kavenegarBaseURL)/\(h.options.kavenegarAPIKey)"
            let answer = try await rawHTTP(h.http, "GET", "\(base)/verify/lookup.json?receptor=09121234567&token=852596&template=verify")
            #expect(answer.status == 200)
            #expect(answer.json?["entries"]?.arrayValue?.first?["receptor"]?.stringValue == "09121234567")
            try await expectStatus(rawHTTP(h.http, "GET", "\(base)/account/info.json"), 200)
            try await expectStatus(rawHTTP(h.http, "DELETE", "\(base)/account/info.json"), 405)
        }
    }
}

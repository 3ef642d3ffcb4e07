import ProviderFakes
import Providers
import Testing

@Suite("Kavenegar request encoding, byte for byte")
struct KavenegarRequestEncodingTests {
    static let formHeaders = [
        FakeHeader("Accept", "application/json"),
        FakeHeader("Content-Type", "application/x-www-form-urlencoded; charset=utf-8"),
    ]

    @Test func lookupWithPersianTokenAndPlusReceptor() async throws {
        try await withHarness { h in
            let lookup = KavenegarLookup(
                receptor: "+989121234567", template: "verify", token: "کاوه", token10: "سلام دنیا", tag: "otp-login")
            let messages = try await h.kavenegar().lookup(lookup)
            #expect(messages.count == 1)
            #expect(messages.first?.receptor == "+989121234567")  // `+` survived: it was sent as %2B

            let request = try #require(await h.control.requests().first)
            let body =
                "receptor=%2B989121234567&template=verify&token=%DA%A9%D8%A7%D9%88%D9%87"
                + "&token10=%D8%B3%D9%84%D8%A7%D9%85%20%D8%AF%D9%86%DB%8C%D8%A7&tag=otp-login"
            #expect(request.method == "POST")
            #expect(request.target == "/kavenegar/v1/fake-kavenegar-key/verify/lookup.json")
            #expect(request.headers == Self.formHeaders + [FakeHeader("Content-Length", "\(body.utf8.count)")])
            #expect(request.bodyText == body)
        }
    }

    @Test func lookupAsVoiceCall() async throws {
        try await withHarness { h in
            _ = try await h.kavenegar().lookup(
                KavenegarLookup(receptor: "09121234567", template: "verify", token: "852596", delivery: .call))
            let request = try #require(await h.control.requests().first)
            #expect(request.bodyText == "receptor=09121234567&template=verify&token=852596&type=call")
        }
    }

    @Test func sendWithLocalIDsAndPlusSender() async throws {
        try await withHarness { h in
            let send = KavenegarSend(
                receptors: ["+989121234567", "09351234567"], message: "سلام +test", localIDs: ["job-1", "job-2"],
                sender: "+9810004346")
            let messages = try await h.kavenegar().send(send)
            #expect(messages.map(\.receptor) == ["+989121234567", "09351234567"])
            #expect(messages.map(\.message) == ["سلام +test", "سلام +test"])

            let request = try #require(await h.control.requests().first)
            let body =
                "receptor=%2B989121234567%2C09351234567&message=%D8%B3%D9%84%D8%A7%D9%85%20%2Btest"
                + "&sender=%2B9810004346&localid=job-1%2Cjob-2"
            #expect(request.method == "POST")
            #expect(request.target == "/kavenegar/v1/fake-kavenegar-key/sms/send.json")
            #expect(request.headers == Self.formHeaders + [FakeHeader("Content-Length", "\(body.utf8.count)")])
            #expect(request.bodyText == body)
        }
    }

    @Test func sendUsesConfiguredSenderWhenNoneGiven() async throws {
        try await withHarness { h in
            _ = try await h.kavenegar(sender: "10004346").send(
                KavenegarSend(receptors: ["09121234567"], message: "hi", localIDs: ["7"]))
            let request = try #require(await h.control.requests().first)
            #expect(request.bodyText == "receptor=09121234567&message=hi&sender=10004346&localid=7")
        }
    }

    @Test func statusAndAccountInfo() async throws {
        try await withHarness { h in
            let client = h.kavenegar()
            _ = try await client.status(messageIDs: [8_792_343, 8_792_344])
            let info = try await client.accountInfo()
            #expect(info.remainingCredit == 1_500_000)
            #expect(info.type == "master")

            let requests = await h.control.requests()
            #expect(requests.count == 2)
            #expect(requests[0].target == "/kavenegar/v1/fake-kavenegar-key/sms/status.json")
            #expect(requests[0].bodyText == "messageid=8792343%2C8792344")
            #expect(requests[0].headers == Self.formHeaders + [FakeHeader("Content-Length", "27")])
            #expect(requests[1].method == "POST")
            #expect(requests[1].target == "/kavenegar/v1/fake-kavenegar-key/account/info.json")
            #expect(requests[1].bodyText == "")
        }
    }

    @Test func errorTextCarriesRedactedURLOnly() async throws {
        try await withHarness { h in
            let error = try #require(
                await providerError {
                    try await h.kavenegar().lookup(KavenegarLookup(receptor: "+989121234567", template: "missing", token: "1"))
                })
            #expect(error.code == "424")
            #expect(error.redactedURL == "\(h.fakes.rootURL)/kavenegar/v1/[REDACTED]/verify/lookup.json")
            #expect(error.description.contains("/kavenegar/v1/[REDACTED]/verify/lookup.json"))
            #expect(!error.description.contains("fake-kavenegar-key"))
            #expect(!h.logs.text.contains("fake-kavenegar-key"))
            #expect(h.logs.text.contains("[REDACTED]"))
        }
    }
}

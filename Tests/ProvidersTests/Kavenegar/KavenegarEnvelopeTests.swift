import ProviderFakes
import Providers
import Testing

/// The `return`/`entries` envelope is decoded leniently (docs/providers.md §2.2).
@Suite("Kavenegar envelope decoding")
struct KavenegarEnvelopeTests {
    static func raw(_ status: Int, _ json: String) -> FakeFault {
        .reply(FakeReply(status: status, headers: [FakeHeader("Content-Type", "application/json")], body: Array(json.utf8)))
    }

    @Test func idsAndNumbersAsStrings() async throws {
        try await withHarness { h in
            await h.control.enqueue(
                Self.raw(
                    200,
                    #"{"return":{"status":"200","message":"تایید شد"},"entries":[{"messageid":"8792343","message":"m","status":"5","statustext":"ارسال به مخابرات","sender":"10004346","receptor":"09*********","date":"1356619709","cost":"120"}]}"#
                ), for: .kavenegarLookup)
            let messages = try await h.kavenegar().lookup(KavenegarLookup(receptor: "09121234567", template: "verify", token: "1"))
            #expect(messages == [
                KavenegarMessage(
                    messageID: 8_792_343, message: "m", status: 5, statusText: "ارسال به مخابرات", sender: "10004346",
                    receptor: "09*********", date: 1_356_619_709, cost: 120)
            ])
            #expect(messages.first?.deliveryState == .pending)
        }
    }

    @Test func entriesAsObjectOrArrayForAccountInfo() async throws {
        try await withHarness { h in
            let client = h.kavenegar()
            await h.control.enqueue(
                Self.raw(200, #"{"return":{"status":200,"message":"ok"},"entries":{"remaincredit":"1500000","expiredate":13548889,"type":"master"}}"#),
                for: .kavenegarAccountInfo)
            let fromObject = try await client.accountInfo()
            #expect(fromObject.remainingCredit == 1_500_000)
            await h.control.enqueue(
                Self.raw(200, #"{"return":{"status":200,"message":"ok"},"entries":[{"remaincredit":42,"type":"child"}]}"#),
                for: .kavenegarAccountInfo)
            let fromArray = try await client.accountInfo()
            #expect(fromArray == KavenegarAccountInfo(remainingCredit: 42, expireDate: nil, type: "child"))
        }
    }

    @Test func missingEntriesOnSuccessIsAnEmptyList() async throws {
        try await withHarness { h in
            await h.control.enqueue(Self.raw(200, #"{"return":{"status":200,"message":"ok"}}"#), for: .kavenegarStatus)
            let statuses = try await h.kavenegar().status(messageIDs: [1])
            #expect(statuses.isEmpty)
        }
    }

    @Test func documentedInvalidNullEntriesStillYieldsTheCode() async throws {
        try await withHarness { h in
            // The docs' own error example: `"entries":{ null }` is not JSON.
            await h.control.enqueue(
                Self.raw(404, #"{"return":{"status":404,"message":"متد تعریف نشده است"},"entries":{ null }}"#), for: .kavenegarStatus)
            let error = try #require(await providerError { try await h.kavenegar().status(messageIDs: [1]) })
            #expect(error.code == "404")
            #expect(error.kind == .rejected)
            #expect(error.message == "متد تعریف نشده است")
            #expect(error.disposition == .permanent)
        }
    }

    @Test func codeInBodyWinsOverHTTPStatus() async throws {
        try await withHarness { h in
            // 501 is the test-mode application code, not a server error, even when it arrives with HTTP 200.
            await h.control.enqueue(Self.raw(200, #"{"return":{"status":501,"message":"test mode"},"entries":null}"#), for: .kavenegarSend)
            let error = try #require(
                await providerError {
                    try await h.kavenegar().send(KavenegarSend(receptors: ["09121234567"], message: "x", localIDs: ["1"]))
                })
            #expect(error.code == "501")
            #expect(error.disposition == .alert(requeueAfterFix: true))
        }
    }
}

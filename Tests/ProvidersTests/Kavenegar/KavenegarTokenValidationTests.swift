import ProviderFakes
import Providers
import Testing

/// Tokens and sends are validated before any request (docs/providers.md §2.5); nothing reaches the fake.
@Suite("Kavenegar validation before sending")
struct KavenegarTokenValidationTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var lookup: KavenegarLookup
        var code: String
        var testDescription: String { name }
    }

    static func lookup(
        token: String = "1234", token2: String? = nil, token3: String? = nil, token10: String? = nil,
        token20: String? = nil, delivery: KavenegarLookup.Delivery = .sms, tag: String? = nil
    ) -> KavenegarLookup {
        KavenegarLookup(
            receptor: "09121234567", template: "verify", token: token, token2: token2, token3: token3, token10: token10,
            token20: token20, delivery: delivery, tag: tag)
    }

    static let rejected: [Case] = [
        Case(name: "space in token", lookup: lookup(token: "12 34"), code: "431"),
        Case(name: "space in token2", lookup: lookup(token2: "a b"), code: "431"),
        Case(name: "space in token3", lookup: lookup(token3: "کد ورود"), code: "431"),
        Case(name: "newline in token", lookup: lookup(token: "12\n34"), code: "431"),
        Case(name: "tab in token10", lookup: lookup(token10: "a\tb"), code: "431"),
        Case(name: "underscore", lookup: lookup(token: "a_b"), code: "431"),
        Case(name: "comma separator", lookup: lookup(token2: "a,b"), code: "431"),
        Case(name: "6 spaces in token10", lookup: lookup(token10: "a b c d e f g"), code: "431"),
        Case(name: "9 spaces in token20", lookup: lookup(token20: "a b c d e f g h i j"), code: "431"),
        Case(name: "101 characters", lookup: lookup(token: String(repeating: "ک", count: 101)), code: "431"),
        Case(name: "empty token", lookup: lookup(token: ""), code: "406"),
        Case(name: "call with letters", lookup: lookup(token: "abc", delivery: .call), code: "428"),
        Case(name: "tag with space", lookup: lookup(tag: "bad tag"), code: "607"),
    ]

    @Test(arguments: rejected)
    func rejectedLocally(_ testCase: Case) async throws {
        // An unroutable base URL: if validation let the request through, the error would be a transport error.
        let client = KavenegarClient(
            configuration: .init(baseURL: "http://127.0.0.1:1/v1", apiKey: "k", timeouts: Harness.shortTimeouts))
        let error = try #require(await providerError { try await client.lookup(testCase.lookup) })
        #expect(error.kind == .invalidRequest)
        #expect(error.code == testCase.code)
        #expect(error.disposition == .permanent)
    }

    static let accepted: [KavenegarLookup] = [
        lookup(token: "کاوه۱۲۳"),
        lookup(token10: "a b c d e f"),
        lookup(token20: "a b c d e f g h i"),
        lookup(token: String(repeating: "ک", count: 100)),
        lookup(token: "852596", delivery: .call),
    ]

    @Test(arguments: accepted)
    func acceptedAndSent(_ lookup: KavenegarLookup) async throws {
        try await withHarness { h in
            let messages = try await h.kavenegar().lookup(lookup)
            #expect(messages.count == 1)
            #expect(await h.control.requests().count == 1)
        }
    }

    @Test func sendLimits() async throws {
        let client = KavenegarClient(configuration: .init(baseURL: "http://127.0.0.1:1/v1", apiKey: "k"))
        let tooMany = (0..<201).map { "0912\(1_000_000 + $0)" }
        let cases: [(KavenegarSend, String)] = [
            (KavenegarSend(receptors: tooMany, message: "x", localIDs: tooMany), "414"),
            (KavenegarSend(receptors: ["09121234567"], message: String(repeating: "a", count: 901), localIDs: ["1"]), "413"),
            (KavenegarSend(receptors: ["09121234567"], message: "", localIDs: ["1"]), "413"),
            (KavenegarSend(receptors: ["09121234567", "09351234567"], message: "x", localIDs: ["1"]), "400"),
        ]
        for (send, code) in cases {
            let error = try #require(await providerError { try await client.send(send) })
            #expect(error.kind == .invalidRequest)
            #expect(error.code == code)
        }
    }
}

import Logging
import ProviderFakes
import Providers
import Testing

/// The providers' shared HTTP client is made at the first request, not when the process builds its clients
/// (decision 0035: an idle worker starts no NIO threads), and a lazy start still sends.
@Suite struct ProviderHTTPClientTests {
    @Test func theClientIsMadeAtTheFirstRequestAndItSends() async throws {
        try await withHarness { h in
            let http = ProviderHTTPClient(connectTimeout: .seconds(2))
            let kavenegar = KavenegarClient(
                configuration: .init(baseURL: h.fakes.kavenegarBaseURL, apiKey: h.options.kavenegarAPIKey, sender: nil, timeouts: .sms),
                httpClient: http)
            #expect(!http.isMade, "made with the provider client, before any request")
            let account = try await kavenegar.accountInfo()
            #expect(account.remainingCredit == h.options.kavenegarCredit, "the request went to the fake and its answer came back")
            #expect(http.isMade)
            // A second client of the process shares the same HTTPClient: its request works as well.
            let ippanel = IPPanelClient(
                configuration: .init(baseURL: h.fakes.ippanelBaseURL, apiKey: h.options.ippanelAPIKey, fromNumber: "+983000505", timeouts: .sms),
                httpClient: http)
            _ = try await ippanel.credit()
            try await http.shutdown()
        }
    }

    @Test func aClientNeverUsedShutsDownWithoutBeingMadeAndThenRefusesRequests() async throws {
        try await withHarness { h in
            let http = ProviderHTTPClient()
            try await http.shutdown()
            #expect(!http.isMade, "shutdown made the client it had never needed")
            let kavenegar = KavenegarClient(
                configuration: .init(baseURL: h.fakes.kavenegarBaseURL, apiKey: h.options.kavenegarAPIKey, sender: nil, timeouts: .sms),
                httpClient: http)
            // A request after shutdown is a provider transport error (retry), not a crash or a client made anew.
            let error = try #require(await providerError { try await kavenegar.accountInfo() })
            #expect(error.kind == .transport)
            #expect(error.disposition == .retry(after: nil))
            #expect(!http.isMade)
        }
    }
}

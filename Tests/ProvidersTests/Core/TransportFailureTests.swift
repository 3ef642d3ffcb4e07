import ProviderFakes
import Providers
import Testing

/// docs/providers.md §1 rule 2: timeouts and connection failures are RETRY; for calls without a dedupe key the
/// outcome is unknown.
@Suite("Timeouts and refused connections")
struct TransportFailureTests {
    /// Nothing listens on port 1 of the loopback interface: the connection is refused.
    static let refusedRoot = "http://127.0.0.1:1"

    @Test func lookupTimeoutIsRetryWithUnknownOutcome() async throws {
        try await withHarness { h in
            // The fake answers only after 2 s, longer than the short timeouts: an error of kind `.timeout` shows the
            // client gave up rather than waited (a wall-clock bound here failed under CI-like load: 3.6–12 s).
            await h.control.enqueue(.delay(.seconds(2)), for: .kavenegarLookup)
            let error = try #require(
                await providerError {
                    try await h.kavenegar(timeouts: Harness.shortTimeouts).lookup(
                        KavenegarLookup(receptor: "09121234567", template: "verify", token: "1"))
                })
            #expect(error.kind == .timeout)
            #expect(error.code == "timeout")
            #expect(error.disposition == .retry(after: nil))
            #expect(error.outcomeUnknown)
            #expect(error.suggestedMaxAttempts == 2)
            #expect(error.httpStatus == nil)
        }
    }

    @Test func refusedConnectionsAreRetryable() async throws {
        try await withHarness { h in
            let lookup = try #require(
                await providerError {
                    try await h.kavenegar(timeouts: Harness.shortTimeouts, baseURL: Self.refusedRoot + "/v1").lookup(
                        KavenegarLookup(receptor: "09121234567", template: "verify", token: "1"))
                })
            let status = try #require(
                await providerError {
                    try await h.kavenegar(timeouts: Harness.shortTimeouts, baseURL: Self.refusedRoot + "/v1").status(messageIDs: [1])
                })
            let create = try #require(
                await providerError {
                    try await h.brevo(timeouts: Harness.shortTimeouts, baseURL: Self.refusedRoot + "/v3").createChild(
                        BrevoNewChild(email: "a@example.com", firstName: "A", lastName: "B", companyName: "C", password: "p"))
                })
            let credits = try #require(
                await providerError {
                    try await h.brevo(timeouts: Harness.shortTimeouts, baseURL: Self.refusedRoot + "/v3").addCredits(to: .id(1), sms: 10)
                })
            for error in [lookup, status, create, credits] {
                #expect(error.kind == .connectionFailed || error.kind == .timeout)
                #expect(error.disposition == .retry(after: nil))
                #expect(error.httpStatus == nil)
            }
            // Refused: no connection existed, so nothing was sent, whatever the call (an SMS goes to the next provider).
            #expect(!lookup.outcomeUnknown)
            #expect(!create.outcomeUnknown)
            #expect(!credits.outcomeUnknown)
            #expect(!status.outcomeUnknown)
            #expect(!lookup.description.contains("fake-kavenegar-key"))
            #expect(lookup.redactedURL == Self.refusedRoot + "/v1/[REDACTED]/verify/lookup.json")
        }
    }

    @Test func brevoNonIdempotentTimeoutsAreUnknownButReadsAreNot() async throws {
        try await withHarness { h in
            let brevo = h.brevo(timeouts: Harness.shortTimeouts)
            await h.control.enqueue(.delay(.seconds(2)), for: .brevoAddCredits)
            let add = try #require(await providerError { try await brevo.addCredits(to: .id(1_234_567), email: 100) })
            #expect(add.kind == .timeout)
            #expect(add.outcomeUnknown)

            await h.control.enqueue(.delay(.seconds(2)), for: .brevoListChildren)
            let list = try #require(await providerError { try await brevo.listChildren() })
            #expect(list.kind == .timeout)
            #expect(list.disposition == .retry(after: nil))
            #expect(!list.outcomeUnknown)
        }
    }

    @Test func ippanelSendTimeoutIsUnknown() async throws {
        try await withHarness { h in
            await h.control.enqueue(Harness.actedThenSlow, for: .ippanelSend)
            let error = try #require(
                await providerError {
                    try await h.ippanel(timeouts: Harness.createThenTimeOut).sendPattern(
                        IPPanelPatternMessage(code: "abc", recipient: "+989121234567", params: ["code": "1234"]))
                })
            #expect(error.kind == .timeout)
            #expect(error.outcomeUnknown)
            #expect(await h.control.ippanelBulkCount() == 1)  // it did go out
        }
    }
}

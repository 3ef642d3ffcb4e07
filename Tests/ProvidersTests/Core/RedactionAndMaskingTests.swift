import ProviderFakes
import Providers
import Testing

@Suite("Secrets and phone numbers stay out of logs")
struct RedactionAndMaskingTests {
    @Test(arguments: [
        ("+989121234567", "+9891*****567"),
        ("09121234567", "0912****567"),
        ("00989121234567", "00989******567"),
        ("12345", "***45"),
    ])
    func phoneMask(_ number: String, _ masked: String) {
        #expect(PhoneMask.mask(number) == masked)
    }

    @Test func logsHaveNoKeyNoTokenAndMaskedNumbers() async throws {
        try await withHarness { h in
            _ = try await h.kavenegar().lookup(KavenegarLookup(receptor: "+989121234567", template: "verify", token: "852596"))
            _ = try await h.ippanel().sendPattern(
                IPPanelPatternMessage(code: "p1", recipient: "+989351234567", params: ["code": "852596"]))
            _ = try await h.brevo().listChildren()
            let text = h.logs.text
            #expect(!h.logs.lines.isEmpty)
            for secret in [h.options.kavenegarAPIKey, h.options.ippanelAPIKey, h.options.brevoAPIKey, "852596",
                "+989121234567", "+989351234567"] {
                #expect(!text.contains(secret), "log contains \(secret)")
            }
            #expect(text.contains("+9891*****567"))
            #expect(text.contains("+9893*****567"))
            #expect(text.contains("/kavenegar/v1/[REDACTED]/verify/lookup.json"))
        }
    }

    @Test func brevoChildAuthKeyInPathIsRedacted() async throws {
        try await withHarness { h in
            let brevo = h.brevo()
            let created = try await brevo.createChild(
                BrevoNewChild(email: "josh@example.com", firstName: "Josh", lastName: "Cruise", companyName: "C", password: "Pa55w0rd65"))
            let key = try #require(created.value.authKey)
            _ = try await brevo.child(.authKey(key))
            let error = try #require(await providerError { try await brevo.child(.authKey(key + "-stale")) })
            #expect(error.kind == .staleIdentifier)
            #expect(!error.description.contains(key))
            #expect(error.redactedURL.hasSuffix("/reseller/children/[REDACTED]"))
            #expect(!h.logs.text.contains(key))
            #expect(!h.logs.text.contains("Pa55w0rd65"))
        }
    }
}

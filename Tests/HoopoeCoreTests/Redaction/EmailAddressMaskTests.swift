import HoopoeCore
import HoopoeJSON
import Testing

/// Email addresses are masked in every output as phone numbers are: the first character of the local part and the
/// domain kept.
struct EmailAddressMaskTests {
    /// jobs/conformance/redaction.json's `emails`: jobs/examples/hoopoe_enqueue.py's copy of the rule runs them too.
    static let emails = (try? ConformanceTests.vectors("redaction.json"))?["emails"]

    @Test func anAddressIsMaskedWhereverItStands() throws {
        let cases = try #require(Self.emails?["masked"]?.arrayValue)
        #expect(cases.count >= 5)
        for pair in cases {
            let text = try #require(pair.arrayValue?.first?.stringValue), masked = try #require(pair.arrayValue?.last?.stringValue)
            #expect(EmailAddressMask.mask(text) == masked, "\(text)")
        }
    }

    @Test func whatIsNoAddressIsLeftAsItIs() {
        let texts = (Self.emails?["unchanged"]?.arrayValue ?? []).compactMap(\.stringValue)
        #expect(texts.count >= 4)
        for text in texts { #expect(EmailAddressMask.mask(text) == text) }
    }

    @Test func everyOutputsRuleMasksBothPhonesAndAddresses() {
        #expect(PersonalDataMask.mask("sara@example.com 09121234567") == "s***@example.com 0912****567")
        let shown = PayloadRedaction(secretKeys: [:]).shown(["to": "sara@example.com", "names": ["x@y.io": 1]], type: "email.send")
        #expect(shown == ["to": "s***@example.com", "names": ["x***@y.io": 1]])
    }
}
